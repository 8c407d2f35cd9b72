"""Estimating a run's credits per arena: collector estimates, tier fallbacks, broken estimators."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from observatory_pipelines.arenas import registry
from observatory_pipelines.arenas.base import CollectionRequest, Collector, Page
from observatory_pipelines.db.engine import session_scope
from observatory_pipelines.db.models import QueryDesign, SearchTerm

SEEN: list[CollectionRequest] = []


class PaidFake(Collector):
    platform = "credits_test_paid"
    arena = "social_media"

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        yield Page(records=[])

    def estimate_credits(self, request: CollectionRequest) -> int:
        SEEN.append(request)
        tier_factor = {"free": 0, "medium": 1, "premium": 3}[request.tier]
        return tier_factor * 10 * max(len(request.terms), 1)


class BrokenFake(PaidFake):
    platform = "credits_test_broken"

    def estimate_credits(self, request: CollectionRequest) -> int:
        raise RuntimeError("estimator exploded")


@pytest.fixture()
def fakes(monkeypatch):
    """The registry's contract (class by platform key, KeyError when unknown), with two fakes."""
    known = {cls.platform: cls for cls in (PaidFake, BrokenFake)}

    def get_collector_class(platform: str) -> type[Collector]:
        if platform in known:
            return known[platform]
        raise KeyError(platform)

    monkeypatch.setattr(registry, "get_collector_class", get_collector_class)
    SEEN.clear()
    return known


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.events: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(json.loads(record.getMessage()))


@pytest.fixture()
def log_events():
    """Events as rendered by the project's structlog setup (its stderr logger is "observatory")."""
    handler = Collect()
    logger = logging.getLogger("observatory")
    logger.addHandler(handler)
    yield handler.events
    logger.removeHandler(handler)


def test_collector_estimates_and_tier_defaults(ledger, fakes, log_events):
    config = {
        "arenas": {
            "credits_test_paid": {"tier": "premium"},
            "credits_test_broken": {"tier": "medium"},
            "unknown_medium": {"tier": "medium", "max_records": 2500},
            "unknown_premium": {"tier": "premium"},
            "unknown_free": {"tier": "free"},
            "switched_off": {"tier": "premium", "enabled": False},
        }
    }
    result = ledger.estimate(config, date(2026, 3, 1), date(2026, 3, 7), terms=["a", "b"])
    assert result == {
        "credits_test_paid": 60,
        "credits_test_broken": 0,
        "unknown_medium": 3,  # ceil(2500 / 1000 * 1)
        "unknown_premium": 5,
        "unknown_free": 0,
    }
    assert sum(result.values()) == 68
    request = SEEN[0]
    assert request.date_from == datetime(2026, 3, 1, tzinfo=UTC)
    assert request.date_to == datetime(2026, 3, 8, tzinfo=UTC)  # date_to day included
    assert [t.term for t in request.terms] == ["a", "b"]
    broken = [e for e in log_events if e["event"] == "credits.estimate.failed"]
    assert broken and broken[0]["level"] == "warning"
    assert broken[0]["platform"] == "credits_test_broken"


def test_tier_argument_applies_where_the_arena_names_none(ledger, fakes):
    config = {"credits_test_paid": {}, "unknown": {}}
    assert ledger.estimate(config, "2026-03-01", "2026-03-02", tier="medium") == {
        "credits_test_paid": 10,
        "unknown": 1,
    }
    assert ledger.estimate(config, "2026-03-01", "2026-03-02") == {
        "credits_test_paid": 0,
        "unknown": 0,
    }


def test_query_design_supplies_config_terms_and_dates(ledger, fakes, make_user):
    user = make_user()
    with session_scope(ledger.engine) as session:
        design = QueryDesign(
            owner_id=user,
            name="d",
            default_tier="medium",
            arenas_config={
                "date_from": "2026-03-01",
                "date_to": "2026-03-03",
                "arenas": {"credits_test_paid": {}},
            },
        )
        session.add(design)
        session.flush()
        session.add_all(
            [
                SearchTerm(query_design_id=design.id, term="grøn"),
                SearchTerm(query_design_id=design.id, term="klima"),
                SearchTerm(query_design_id=design.id, term="gammel", is_active=False),
            ]
        )
    assert ledger.estimate(design, None, None) == {"credits_test_paid": 20}
    assert sorted(t.term for t in SEEN[0].terms) == ["grøn", "klima"]


def test_bad_config_is_named(ledger, fakes):
    with pytest.raises(ValueError, match="date_from and date_to"):
        ledger.estimate({"arenas": {"x": {}}}, None, None)
    with pytest.raises(ValueError, match="not an ISO date"):
        ledger.estimate({"x": {}}, "yesterday", "2026-03-01")
    with pytest.raises(ValueError, match="arenas_config must be a mapping"):
        ledger.estimate("rss_feeds", "2026-03-01", "2026-03-02")
