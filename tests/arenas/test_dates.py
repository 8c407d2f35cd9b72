"""Every date form real feeds and APIs use lands at the right instant (issue 13.3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from observatory_pipelines.arenas.text import parse_datetime

AT_0741 = datetime(2025, 6, 10, 7, 41, 1, tzinfo=UTC)

FORMS = [
    # RFC 822 / 1123 / 2822, numeric offsets
    ("Tue, 10 Jun 2025 09:41:01 +0200", AT_0741),
    ("Tue, 10 Jun 2025 09:41:01 +02:00", AT_0741),
    ("Tue, 10 Jun 2025 09:41:01 +02", AT_0741),
    ("Tue, 10 Jun 2025 09:41:01 +0200 (CEST)", AT_0741),
    ("Tue, 10 Jun 2025 02:41:01 -0500", AT_0741),
    ("Tue, 10 Jun 2025 13:11:01 +05:30", AT_0741),
    ("10 Jun 2025 09:41:01 +0200", AT_0741),
    ("Tue, 10 Jun 2025 09:41:01 GMT+2", AT_0741),
    # RFC 822 named zones
    ("Tue, 10 Jun 2025 09:41:01 CEST", AT_0741),
    ("Tue, 10 Jun 2025 08:41:01 CET", AT_0741),
    ("Tue, 10 Jun 2025 02:41:01 EST", AT_0741),
    ("Tue, 10 Jun 2025 03:41:01 EDT", AT_0741),
    ("Tue, 10 Jun 2025 00:41:01 PDT", AT_0741),
    ("Mon, 09 Jun 2025 23:41:01 PST", AT_0741),
    ("Tue, 10 Jun 2025 07:41:01 GMT", AT_0741),
    ("Tue, 10 Jun 2025 07:41:01 UT", AT_0741),
    ("Tue, 10 Jun 2025 07:41:01 UTC", AT_0741),
    ("Tue, 10 Jun 2025 07:41:01 Z", AT_0741),
    # military letters (A = +1, M = +12, N = -1, Y = -12)
    ("Tue, 10 Jun 2025 08:41:01 A", AT_0741),
    ("Tue, 10 Jun 2025 19:41:01 M", AT_0741),
    ("Tue, 10 Jun 2025 06:41:01 N", AT_0741),
    ("Mon, 09 Jun 2025 19:41:01 Y", AT_0741),
    # RFC 850, two-digit years, Danish names, lower case
    ("Tuesday, 10-Jun-25 07:41:01 GMT", AT_0741),
    ("tir, 10 jun 2025 09:41:01 +0200", AT_0741),
    ("10. juni 2025 09:41:01 CEST", AT_0741),
    # ISO 8601 / RFC 3339
    ("2025-06-10T09:41:01+02:00", AT_0741),
    ("2025-06-10T09:41:01+0200", AT_0741),
    ("2025-06-10T09:41:01 +02:00", AT_0741),
    ("2025-06-10T07:41:01Z", AT_0741),
    ("2025-06-10t07:41:01z", AT_0741),
    ("2025-06-10T07:41:01", AT_0741),  # no offset: UTC
    ("2025-06-10 07:41:01", AT_0741),
    ("2025-06-10T09:41:01.000+02:00", AT_0741),
    ("2025-06-10T07:41:01.250Z", datetime(2025, 6, 10, 7, 41, 1, 250000, tzinfo=UTC)),
    ("2025-06-10T07:41:01.123456789Z", datetime(2025, 6, 10, 7, 41, 1, 123456, tzinfo=UTC)),
    # GDELT, epoch seconds and milliseconds
    ("20250610T074101Z", AT_0741),
    ("1749541261", AT_0741),
    (1749541261000, AT_0741),
    # dates without a time: that day's 00:00 UTC
    ("2025-06-10", datetime(2025, 6, 10, tzinfo=UTC)),
    ("10 Jun 2025", datetime(2025, 6, 10, tzinfo=UTC)),
    ("Tue, 10 Jun 2025", datetime(2025, 6, 10, tzinfo=UTC)),
]


@pytest.mark.parametrize(("raw", "instant"), FORMS, ids=[str(f[0]) for f in FORMS])
def test_date_form_lands_at_the_right_instant(raw, instant):
    assert parse_datetime(raw) == instant


@pytest.mark.parametrize("raw", ["", "not a date", "32 Foo 2025 25:99", "Tue, 10 Jun"])
def test_what_names_no_instant_is_none(raw):
    assert parse_datetime(raw) is None
