"""Volume spikes on planted series (Copenhagen days, every record at 10:00 UTC = 11:00 local).

bluesky: 28 baseline days of 4, 5, 6, 5, … (7 × 4, 14 × 5, 7 × 6): median 5, |x − 5| is 0 on
14 days and 1 on 14, MAD 0.5, threshold 5 + 3 × 1.4826 × 0.5 = 7.2239; on the spike day 30
records: ratio 6.0, z = 25 / (1.4826 × 0.5) = 33.7245. Every bluesky record matched "klima",
so the term series is the same. 10 of the 30 also matched "energi" (no history: median 0,
Poisson bound 0 → fires). reddit: 1, 5, 9, 5, … median 5, MAD 2, threshold 13.8956: 10 on the
spike day (2× the median) does not fire (the original's "> 2×" would have fired at 11).
youtube: 12 records on the spike day only, no history → fires on the Poisson rule.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from observatory_pipelines.analysis.assets import AnalysisScopeResource
from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.research import assets, spikes
from observatory_pipelines.research.framework import ResearchInputError
from observatory_pipelines.research.periods import day_start
from tests.research.conftest import enrich, metadata

SPIKE_DAY = date(2026, 3, 20)


def _at(day: date, minute: int = 0) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC) + timedelta(minutes=minute)


def _plant(corpus, spike_day: date = SPIKE_DAY) -> None:
    for back in range(28, 0, -1):
        day = spike_day - timedelta(days=back)
        for i in range((4, 5, 6, 5)[back % 4]):
            corpus.add(published_at=_at(day, i), author="base", terms=["klima"])
        for i in range((1, 5, 9, 5)[back % 4]):
            corpus.add(published_at=_at(day, i), platform="reddit", author="r")
    links = ["https://dr.dk/nyhed/1"] * 12 + ["https://tv2.dk/a"] * 8 + ["https://x.dk/b"] * 3
    for i in range(30):
        text = f"Se {links[i]}" if i < len(links) else "ingen link"
        author = "a1" if i < 15 else "a2" if i < 25 else "a3"
        terms = ["klima", "energi"] if i < 10 else ["klima"]
        corpus.add(published_at=_at(spike_day, i), author=author, terms=terms, text=text)
    for i in range(10):
        corpus.add(published_at=_at(spike_day, i), platform="reddit", author="r")
    for i in range(12):
        corpus.add(published_at=_at(spike_day, i), platform="youtube", author="y")


def _run(conn, corpus, now, **scope):
    params = check_scope(conn, AnalysisScope(corpus.design, **scope))
    return spikes.volume_spikes(conn, params, now=now)


def test_the_planted_spike_fires_with_the_exact_baseline(corpus, conn, database_url):
    _plant(corpus)
    enrich(database_url, "record_urls")
    output = _run(conn, corpus, now=day_start(SPIKE_DAY + timedelta(days=1)))
    rows = output.tables["spikes"].rows
    assert [(r["scope"], r["value"], r["day"]) for r in rows] == [
        ("platform", "bluesky", "2026-03-20"),
        ("platform", "youtube", "2026-03-20"),
        ("term", "energi", "2026-03-20"),
        ("term", "klima", "2026-03-20"),
    ]
    bluesky, youtube, energi, klima = rows
    assert bluesky == {
        "design_id": corpus.design, "scope": "platform", "value": "bluesky",
        "day": "2026-03-20", "count": 30, "baseline_median": 5.0, "baseline_mad": 0.5,
        "threshold": 7.2239, "rule": "mad", "ratio": 6.0, "z_robust": 33.7245,
        "top_terms": ["klima", "energi"], "top_actors": ["a1", "a2", "a3"],
        "top_urls": ["https://dr.dk/nyhed/1", "https://tv2.dk/a", "https://x.dk/b"],
    }  # fmt: skip
    assert {k: youtube[k] for k in ("count", "baseline_median", "baseline_mad", "threshold",
                                    "rule", "ratio", "z_robust", "top_actors")} == {
        "count": 12, "baseline_median": 0.0, "baseline_mad": 0.0, "threshold": 0.0,
        "rule": "poisson", "ratio": None, "z_robust": None, "top_actors": ["y"],
    }  # fmt: skip
    assert (energi["count"], energi["rule"], energi["top_terms"]) == (10, "poisson",
                                                                       ["energi", "klima"])  # fmt: skip
    assert (klima["count"], klima["baseline_median"], klima["z_robust"]) == (30, 5.0, 33.7245)
    reddit = [r for r in output.tables["daily"].rows
              if r["value"] == "reddit" and r["day"] == "2026-03-20"]  # fmt: skip
    assert reddit == [{"scope": "platform", "value": "reddit", "day": "2026-03-20", "count": 10,
                       "baseline_days": 28, "baseline_median": 5.0, "baseline_mad": 2.0,
                       "threshold": 13.8956, "is_spike": False}]  # fmt: skip
    # the first six days have under 7 days of history: not judged
    first = [r for r in output.tables["daily"].rows if r["value"] == "bluesky"][:8]
    assert [r["baseline_days"] for r in first] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [r["threshold"] is None for r in first] == [True] * 7 + [False]
    assert output.summary["spikes"] == 4 and output.summary["last_complete_day"] == "2026-03-20"


def test_today_is_partial_and_never_judged(corpus, conn):
    _plant(corpus)
    afternoon = datetime.combine(SPIKE_DAY, time(14, 0), tzinfo=UTC)  # 15:00 in Copenhagen
    output = _run(conn, corpus, now=afternoon)
    assert output.tables["spikes"].rows == []
    assert max(r["day"] for r in output.tables["daily"].rows) == "2026-03-19"
    # a scope ending inside the spike day cuts it too (its records at 10:00 UTC are in it)
    cut = _run(conn, corpus, now=datetime(2026, 12, 1, tzinfo=UTC),
               date_to="2026-03-20T12:00:00+00:00")  # fmt: skip
    assert cut.tables["spikes"].rows == []
    # a filtered scope: bluesky's days only; youtube is out, and so is its history
    bluesky = _run(conn, corpus, now=datetime(2026, 12, 1, tzinfo=UTC), platforms=["bluesky"])
    assert [(r["scope"], r["value"]) for r in bluesky.tables["spikes"].rows] == [
        ("platform", "bluesky"), ("term", "energi"), ("term", "klima"),
    ]  # fmt: skip
    alone = _run(conn, corpus, now=datetime(2026, 12, 1, tzinfo=UTC), platforms=["youtube"])
    assert alone.tables["spikes"].rows == []  # one day of history: nothing to judge it by


def test_poisson_quantile_and_bad_parameters(corpus, conn):
    assert spikes.poisson_quantile(0, 0.999) == 0
    assert spikes.poisson_quantile(1, 0.999) == 5  # P(X ≤ 4) = 0.99634, P(X ≤ 5) = 0.99941
    assert spikes.poisson_quantile(4, 0.999) == 11
    params = check_scope(conn, AnalysisScope(corpus.design))
    with pytest.raises(ResearchInputError, match="baseline_days"):
        spikes.volume_spikes(conn, params, {"baseline_days": 3})
    empty = spikes.volume_spikes(conn, params)
    assert empty.tables["spikes"].rows == [] and empty.tables["daily"].columns[0] == "scope"


class _Webhook:
    """A local HTTP endpoint recording the JSON bodies POSTed to it."""

    def __init__(self, status: int = 204) -> None:
        self.bodies: list[dict] = []
        self.status = status
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts?token=secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def webhook():
    hook = _Webhook()
    yield hook
    hook.close()


def _materialize(corpus, postgres, store, instance):
    asset = next(a for a in assets.research_assets if a.key.path[-1] == "volume_spikes")
    return dg.materialize(
        [asset, assets.volume_spikes_recent],
        partition_key=corpus.design,
        instance=instance,
        resources={
            "postgres": postgres,
            "object_store": store,
            "analysis_scope": AnalysisScopeResource(),
        },  # fmt: skip
        raise_on_error=False,
    )


def test_check_warns_and_sensor_posts_each_recent_spike_once(
    corpus, conn, postgres, s3_object_store_resource, webhook, monkeypatch
):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("query_designs", [corpus.design])
    quiet = _materialize(corpus, postgres, s3_object_store_resource, instance)
    [evaluation] = quiet.get_asset_check_evaluations()
    assert evaluation.passed and quiet.success
    yesterday = datetime.now(UTC).astimezone(spikes.periods.ZONE).date() - timedelta(days=1)
    _plant(corpus, spike_day=yesterday)
    result = _materialize(corpus, postgres, s3_object_store_resource, instance)
    assert result.success  # a WARN check never fails the run
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    recent = evaluation.metadata["recent_spikes"].value
    assert sorted((a["scope"], a["value"]) for a in recent) == [
        ("platform", "bluesky"), ("platform", "youtube"), ("term", "energi"), ("term", "klima"),
    ]  # fmt: skip
    assert metadata(result, "volume_spikes")["spikes"] == 4

    monkeypatch.setenv("SPIKE_ALERT_WEBHOOK_URL", webhook.url)
    context = dg.build_sensor_context(instance=instance)
    assets.volume_spike_sensor(context)
    assert len(webhook.bodies) == 4
    bluesky = next(b for b in webhook.bodies if b["value"] == "bluesky")
    assert bluesky == {
        "event": "volume_spike", "query_design_id": corpus.design, "scope": "platform",
        "value": "bluesky", "day": yesterday.isoformat(), "count": 30, "baseline_median": 5.0,
        "threshold": 7.2239, "ratio": 6.0, "z_robust": 33.7245, "top_terms": ["klima", "energi"],
    }  # fmt: skip
    # the next tick, and a rerun of the asset listing the same spikes, send nothing again
    cursor = context.cursor
    _materialize(corpus, postgres, s3_object_store_resource, instance)
    again = dg.build_sensor_context(instance=instance, cursor=cursor)
    assets.volume_spike_sensor(again)
    assert len(webhook.bodies) == 4
    assert json.loads(again.cursor)["pending"] == {}


def test_a_failed_delivery_is_retried_on_the_next_tick(webhook):
    webhook.status = 500
    alert = {"scope": "platform", "value": "bluesky", "day": "2026-03-20", "count": 30,
             "baseline_median": 5.0, "threshold": 7.2, "ratio": 6.0, "z_robust": 33.7,
             "top_terms": []}  # fmt: skip
    today = date(2026, 3, 21)
    state, counts = spikes.process_alerts({}, [("d", [alert])], today, webhook.url)
    assert counts == {"sent": 0, "failed": 1, "given_up": 0} and list(state["pending"])
    webhook.status = 200
    state, counts = spikes.process_alerts(state, [], today, webhook.url)
    assert counts["sent"] == 1 and state["pending"] == {} and len(webhook.bodies) == 2
    # without a webhook the spike is only logged, and counts as sent
    state, counts = spikes.process_alerts({}, [("d", [alert])], today, None)
    assert counts["sent"] == 1 and len(webhook.bodies) == 2
    # an old spike (before the recent window) is never sent
    state, counts = spikes.process_alerts({}, [("d", [alert])], date(2026, 4, 30), webhook.url)
    assert counts["sent"] == 0 and len(webhook.bodies) == 2
