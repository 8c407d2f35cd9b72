"""Volume spike alerts on a calendar baseline (issue 19 analysis 5; spec enrichments.md §3.3
"Recommended (calendar-based)").

Daily record counts per platform and per matched search term (Copenhagen days, SQL); each
complete day against the 28 days before it (days without records count as 0, from the
design's first day in the scope on): a spike when the count is at least 10 and above
median + 3 × 1.4826 × MAD — or, when the median is below 5, above the Poisson 99.9 %
quantile of the baseline mean (a MAD of small counts is mostly 0 or 1 and fires on noise).
Today (and any day the scope cuts) is partial and never judged.

Also the plain half of the alerting: which alerts a sensor has not yet sent, and sending
one (a structured ``volume_spike`` log line, and a POST to the operator's webhook).
"""

from __future__ import annotations

import math
import statistics
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import psycopg

from observatory_pipelines.logs import get_logger
from observatory_pipelines.research import periods, trend_plots
from observatory_pipelines.research.framework import (
    ResearchAnalysis,
    ResearchOutput,
    Table,
    bulk_transaction,
    query,
)
from observatory_pipelines.research.parameters import Rule, check_parameters

DEFAULTS: dict[str, Any] = {
    "baseline_days": 28,
    "min_baseline_days": 7,  # observed days needed before a day is judged
    "min_count": 10,
    "mad_factor": 3.0,
    "poisson_below_median": 5,  # below this baseline median the Poisson bound decides
    "poisson_level": 0.999,
    "top_items": 3,
    "alert_days": 30,  # spikes this recent are listed in the metadata for the sensor
    "recent_days": 3,  # spikes this recent make the asset check warn
}
RULES = {
    "baseline_days": Rule(7, 365, integer=True),
    "min_baseline_days": Rule(1, 365, integer=True),
    "min_count": Rule(1, 1_000_000, integer=True),
    "mad_factor": Rule(0.5, 20),
    "poisson_below_median": Rule(0, 1000),
    "poisson_level": Rule(0.5, 0.999999),
    "top_items": Rule(1, 20, integer=True),
    "alert_days": Rule(1, 365, integer=True),
    "recent_days": Rule(1, 365, integer=True),
}
MAD_SCALE = 1.4826  # MAD × this estimates the standard deviation of normal data
WEBHOOK_TIMEOUT_SECONDS = 10.0
log = get_logger(__name__)

SPIKE_COLUMNS = (
    "design_id", "scope", "value", "day", "count", "baseline_median", "baseline_mad",
    "threshold", "rule", "ratio", "z_robust", "top_terms", "top_actors", "top_urls",
)  # fmt: skip
DAILY_COLUMNS = (
    "scope", "value", "day", "count", "baseline_days", "baseline_median", "baseline_mad",
    "threshold", "is_spike",
)  # fmt: skip
ALERT_FIELDS = (
    "scope", "value", "day", "count", "baseline_median", "threshold", "ratio", "z_robust",
    "top_terms",
)  # fmt: skip


def poisson_quantile(mean: float, level: float) -> int:
    """The smallest k with P(X ≤ k) ≥ level for X ~ Poisson(mean)."""
    if mean <= 0:
        return 0
    if mean > 1000:  # the normal approximation is exact enough there, the sum is long
        z = statistics.NormalDist().inv_cdf(level)
        return math.ceil(mean + z * math.sqrt(mean))
    k, cumulative = 0, 0.0
    while True:
        cumulative += math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))
        if cumulative >= level:
            return k
        k += 1


def _complete_days(params: dict[str, Any], now: datetime) -> tuple[date, date]:
    """First and last Copenhagen day wholly inside the scope and before ``now``."""
    end = now if params["date_to_exclusive"] is None else min(now, params["date_to_exclusive"])
    last = periods.local_day(end)
    if periods.day_start(last + timedelta(days=1)) > end:
        last -= timedelta(days=1)
    first = date(1900, 1, 1)
    if params["date_from"] is not None:
        first = periods.local_day(params["date_from"])
        if periods.day_start(first) < params["date_from"]:
            first += timedelta(days=1)
    return first, last


def judge(
    counts: dict[date, int], first: date, last: date, values: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every day of one series from ``first`` to ``last`` with its baseline and verdict."""
    out = []
    day = first
    while day <= last:
        baseline = [
            counts.get(day - timedelta(days=back), 0)
            for back in range(1, values["baseline_days"] + 1)
            if day - timedelta(days=back) >= first
        ]
        count = counts.get(day, 0)
        row: dict[str, Any] = {"day": day.isoformat(), "count": count,
                               "baseline_days": len(baseline), "baseline_median": None,
                               "baseline_mad": None, "threshold": None, "rule": None,
                               "is_spike": False}  # fmt: skip
        if len(baseline) >= values["min_baseline_days"]:
            median = statistics.median(baseline)
            mad = statistics.median(abs(x - median) for x in baseline)
            if median < values["poisson_below_median"]:
                threshold = float(
                    poisson_quantile(statistics.fmean(baseline), values["poisson_level"])
                )
                rule = "poisson"
            else:
                threshold = median + values["mad_factor"] * MAD_SCALE * mad
                rule = "mad"
            row.update(
                baseline_median=float(median),
                baseline_mad=float(mad),
                threshold=round(threshold, 4),
                rule=rule,
                is_spike=count >= values["min_count"] and count > threshold,
                ratio=round(count / median, 2) if median else None,
                z_robust=round((count - median) / (MAD_SCALE * mad), 4) if mad else None,
            )
        out.append(row)
        day += timedelta(days=1)
    return out


def volume_spikes(
    conn: psycopg.Connection,
    params: dict[str, Any],
    overrides: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> ResearchOutput:
    values = check_parameters(DEFAULTS, RULES, overrides)
    now = now or datetime.now(UTC)
    first, last = _complete_days(params, now)
    bounds = {"complete_from": periods.day_start(first),
              "complete_to": periods.day_start(last + timedelta(days=1))}  # fmt: skip
    series: dict[tuple[str, str], dict[date, int]] = {}
    with bulk_transaction(conn):
        daily_rows = query(conn, "volume_spikes_daily", {**params, **bounds})
    for row in daily_rows:
        day = date.fromisoformat(row["day"])
        series.setdefault((row["scope"], row["value"]), {})[day] = row["records"]
    # the design's history: its first to its last complete day with a record (any series);
    # days after the last are not collected yet (a batch design), not days of silence
    observed = [d for counts in series.values() for d in counts]
    start, last = (min(observed), max(observed)) if observed else (None, last)
    daily, spikes = [], []
    for (scope, value), counts in sorted(series.items()):
        for row in judge(counts, start, last, values):
            daily.append({"scope": scope, "value": value, **{c: row[c] for c in DAILY_COLUMNS[2:]}})
            if row["is_spike"]:
                spikes.append({"design_id": params["query_design_id"], "scope": scope,
                               "value": value, **row})  # fmt: skip
    _add_details(conn, params, bounds, spikes, values["top_items"])
    spikes = [{c: s.get(c) for c in SPIKE_COLUMNS} for s in spikes]
    today = periods.local_day(now)
    alerts = [
        {f: s[f] for f in ALERT_FIELDS}
        for s in spikes
        if date.fromisoformat(s["day"]) > today - timedelta(days=values["alert_days"])
    ]
    return ResearchOutput(
        tables={"spikes": Table(SPIKE_COLUMNS, spikes), "daily": Table(DAILY_COLUMNS, daily)},
        charts={"spike_timeline": trend_plots.spike_timeline(daily, spikes)},
        summary={
            "spikes": len(spikes),
            "series": len(series),
            "first_day": start.isoformat() if start else None,
            "last_complete_day": last.isoformat() if start else None,
            "spike_alerts": alerts,
        },
        parameters={**values, "time_zone": periods.TIME_ZONE, "mad_scale": MAD_SCALE},
    )


def _add_details(conn, params, bounds, spikes: list[dict[str, Any]], top: int) -> None:
    if not spikes:
        return
    with bulk_transaction(conn):  # every spike in one query: hashed joins, no index loops
        rows = query(
            conn,
            "volume_spikes_details",
            {**params, **bounds, "top_items": top,
             "spike_scopes": [s["scope"] for s in spikes],
             "spike_values": [s["value"] for s in spikes],
             "spike_days": [date.fromisoformat(s["day"]) for s in spikes]},
        )  # fmt: skip
    found = {(r["scope"], r["value"], r["day"], r["kind"]): r["items"] for r in rows}
    for spike in spikes:
        for kind in ("term", "actor", "url"):
            spike[f"top_{kind}s"] = found.get(
                (spike["scope"], spike["value"], spike["day"], kind), []
            )


VOLUME_SPIKES = ResearchAnalysis(
    name="volume_spikes",
    description="Days whose record count per platform or per search term is far above the "
    "28 days before (Copenhagen days; ≥ 10 records and above median + 3 × 1.4826 × MAD, or "
    "the Poisson 99.9 % bound when the median is below 5), with their top terms, authors and "
    "URLs. Check volume_spikes_recent warns on a recent one; volume_spike_sensor notifies.",
    compute=volume_spikes,
    revision=1,
    parameters=DEFAULTS,
    reads=("record_urls",),
)


# --- alerting (the sensor's plain half) -------------------------------------------------


def alert_key(design: str, alert: dict[str, Any]) -> str:
    return f"{design}|{alert['scope']}|{alert['value']}|{alert['day']}"


def recent_alerts(
    alerts: list[dict[str, Any]], today: date, days: int = DEFAULTS["recent_days"]
) -> list[dict[str, Any]]:
    """The alerts whose day is among the last ``days`` days before ``today``."""
    return [a for a in alerts if date.fromisoformat(a["day"]) >= today - timedelta(days=days)]


def send_alert(design: str, alert: dict[str, Any], webhook_url: str | None) -> bool:
    """Log one ``volume_spike`` event and POST it to ``webhook_url`` (the operator's,
    ``SPIKE_ALERT_WEBHOOK_URL``; never a URL from a design). Authors and URLs stay out of the
    payload: it leaves the observatory. True when delivered (or nothing to deliver to)."""
    fields = {"query_design_id": design, **{f: alert.get(f) for f in ALERT_FIELDS}}
    log.warning("volume_spike", **fields)
    payload = {"event": "volume_spike", **fields}
    if not webhook_url:
        return True
    try:
        response = httpx.post(webhook_url, json=payload, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        # the URL may carry a token: name the error's kind only
        log.error("volume_spike_webhook_failed", query_design_id=design, error=type(exc).__name__)
        return False
    if response.status_code >= 300:
        log.error("volume_spike_webhook_failed", query_design_id=design,
                  status=response.status_code)  # fmt: skip
        return False
    return True


MAX_ATTEMPTS = 5  # deliveries tried per alert (one a sensor tick) before it is given up


def process_alerts(
    state: dict[str, Any],
    materializations: list[tuple[str, list[dict[str, Any]]]],
    today: date,
    webhook_url: str | None,
    recent_days: int = DEFAULTS["recent_days"],
) -> tuple[dict[str, Any], dict[str, int]]:
    """One sensor tick: the recent alerts of new ``(design, alerts)`` materializations not yet
    sent, plus those still pending from a failed delivery, sent once each. ``state`` (the
    sensor's cursor: ``sent`` keys with their day, ``pending`` alerts with their attempts)
    comes back updated; keys older than the recent window are forgotten."""
    sent: dict[str, str] = dict(state.get("sent", {}))
    pending: dict[str, dict[str, Any]] = dict(state.get("pending", {}))
    for design, alerts in materializations:
        for alert in recent_alerts(alerts, today, recent_days):
            key = alert_key(design, alert)
            if key not in sent and key not in pending:
                pending[key] = {"design": design, "alert": alert, "attempts": 0}
    counts = {"sent": 0, "failed": 0, "given_up": 0}
    for key, item in sorted(pending.items()):
        if send_alert(item["design"], item["alert"], webhook_url):
            sent[key] = item["alert"]["day"]
            del pending[key]
            counts["sent"] += 1
            continue
        item["attempts"] += 1
        counts["failed"] += 1
        if item["attempts"] >= MAX_ATTEMPTS:
            log.error("volume_spike_alert_given_up", query_design_id=item["design"],
                      day=item["alert"]["day"], attempts=item["attempts"])  # fmt: skip
            sent[key] = item["alert"]["day"]
            del pending[key]
            counts["given_up"] += 1
    horizon = (today - timedelta(days=recent_days)).isoformat()
    sent = {key: day for key, day in sent.items() if day >= horizon}
    return {"sent": sent, "pending": pending}, counts
