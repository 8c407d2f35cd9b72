"""The design files sensor against the real database: a file in DESIGNS_DIR becomes a design
the collection sensor starts and the collection asset collects (from a local feed); an edit of
its terms is a new run of the same window; an invalid file is reported in the tick, unwritten."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
from sqlalchemy import text

from observatory_pipelines.collection.assets import collected_content, new_query_designs_sensor
from observatory_pipelines.definitions import defs
from observatory_pipelines.designs.assets import design_files_sensor

from .conftest import counts, design_yaml, write

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Lokal</title><link>http://127.0.0.1/</link>
<language>da</language>
<item><guid>a1</guid><title>Grønland og rigsfællesskabet</title>
<link>http://127.0.0.1/a1</link><description>Debat om Grønland i Folketinget i dag.</description>
<pubDate>Tue, 03 Mar 2026 10:00:00 +0100</pubDate></item>
<item><guid>a2</guid><title>Trump vil købe Grønland igen</title>
<link>http://127.0.0.1/a2</link><description>Præsidenten gentager sit ønske om øen.</description>
<pubDate>Wed, 04 Mar 2026 09:00:00 +0100</pubDate></item>
</channel></rss>"""


@pytest.fixture()
def feed_url():
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requests.append(self.path)
            body = FEED.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()
    thread.join()


def _tick(sensor, instance, postgres, cursor=None, object_store=None):
    resources = {"postgres": postgres}
    if object_store is not None:
        resources["object_store"] = object_store
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return sensor(context)


def _add_partitions(instance, result: dg.SensorResult) -> None:
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_the_sensor_is_registered_and_running_by_default():
    sensor = defs.get_sensor_def("design_files_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 30


def test_a_design_file_is_synced_started_collected_and_rerun_when_its_terms_change(
    db, postgres, researcher, folder, monkeypatch, feed_url, object_store_resource
):
    monkeypatch.setenv("DESIGNS_DIR", str(folder))
    arenas = f"arenas:\n  rss_feeds:\n    default_feeds: false\n    feeds: ['{feed_url}']"
    path = write(folder, "groenland.yaml", design_yaml(arenas=arenas))
    bad = write(folder, "broken.yaml", design_yaml(name="Broken", terms="terms: []"))

    with dg.instance_for_test() as instance:
        synced = _tick(design_files_sensor, instance, postgres, object_store=object_store_resource)
        assert isinstance(synced, dg.SkipReason)
        assert "created 1" in synced.skip_message and "refused_files 1" in synced.skip_message
        assert f"{bad}:7:1: terms: at least one search term" in synced.skip_message
        with db.connect() as conn:
            (design_id,) = conn.execute(text("SELECT CAST(id AS text) FROM query_designs")).one()

        # The collection sensor, the one that starts runs, starts the new design once.
        first = _tick(new_query_designs_sensor, instance, postgres)
        (request,) = first.run_requests
        assert request.partition_key == design_id
        assert request.run_key == f"{design_id}:2026-03-01T00:00:00+00:00:2026-03-08T00:00:00+00:00"
        _add_partitions(instance, first)

        result = dg.materialize(
            [collected_content], partition_key=design_id, instance=instance,
            resources={"postgres": postgres, "object_store": object_store_resource},
            run_config=request.run_config,
        )  # fmt: skip
        assert result.success
        (mat,) = result.asset_materializations_for_node("collected_content")
        assert mat.metadata["records_collected"].value == 2
        with db.connect() as conn:
            matched = conn.execute(
                text("SELECT title, search_terms_matched FROM content_records ORDER BY title")
            ).all()
        # trump AND købe both occur only in the second article; grønland in both.
        assert [(t, sorted(m)) for t, m in matched] == [
            ("Grønland og rigsfællesskabet", ["grønland"]),
            ("Trump vil købe Grønland igen", ["grønland", "købe", "trump"]),
        ]

        # Nothing changed: no sync writes, no new run.
        quiet = _tick(design_files_sensor, instance, postgres, object_store=object_store_resource)
        assert "unchanged 1" in quiet.skip_message
        assert _tick(new_query_designs_sensor, instance, postgres, first.cursor).run_requests == []

        # The terms change: a new run of the same window, under a new run key.
        write(folder, path.name, design_yaml(arenas=arenas, terms="terms:\n  - folketinget"))
        revised = _tick(design_files_sensor, instance, postgres, object_store=object_store_resource)
        assert "revised 1" in revised.skip_message
        again = _tick(new_query_designs_sensor, instance, postgres, first.cursor)
        (rerun,) = again.run_requests
        assert rerun.partition_key == design_id
        assert rerun.run_config == request.run_config  # the same window
        assert rerun.run_key.startswith(request.run_key + ":revised:")
        # ... requested once, even with the cursor lost once the rerun exists.
        assert _tick(new_query_designs_sensor, instance, postgres, again.cursor).run_requests == []
        rerun_result = dg.materialize(
            [collected_content], partition_key=design_id, instance=instance,
            resources={"postgres": postgres, "object_store": object_store_resource},
            run_config=rerun.run_config,
        )  # fmt: skip
        assert rerun_result.success
        lost_cursor = _tick(new_query_designs_sensor, instance, postgres)
        assert design_id not in {r.partition_key for r in lost_cursor.run_requests}

        # The file removed: deactivated, its records and runs kept.
        path.unlink()
        gone = _tick(design_files_sensor, instance, postgres, object_store=object_store_resource)
        assert "deactivated 1" in gone.skip_message
        with db.connect() as conn:
            assert conn.execute(text("SELECT is_active FROM query_designs")).scalar_one() is False
            assert conn.execute(text("SELECT count(*) FROM collection_runs")).scalar_one() == 2
            assert conn.execute(text("SELECT count(*) FROM content_records")).scalar_one() == 2
    assert counts(db)["query_designs"] == 1


def test_the_sensor_also_syncs_designs_prefix_in_the_outputs_bucket(
    db, postgres, researcher, folder, monkeypatch, object_store_resource
):
    monkeypatch.setenv("DESIGNS_DIR", str(folder / "none-here"))
    monkeypatch.setenv("DESIGNS_PREFIX", "designs/")
    outputs = object_store_resource.outputs()
    outputs.put("designs/valg.yaml", design_yaml(name="Valg").encode())
    with dg.instance_for_test() as instance:
        tick = _tick(design_files_sensor, instance, postgres, object_store=object_store_resource)
    assert "does not exist: nothing synced" in tick.skip_message
    assert f"{outputs.bucket}/designs/: created 1" in tick.skip_message
    with db.connect() as conn:
        source = conn.execute(text("SELECT source_file FROM query_designs")).scalar_one()
    assert source == f"store://{outputs.bucket}/designs/valg.yaml"


def test_a_live_design_file_starts_from_window_from_up_to_today(
    db, postgres, researcher, folder, monkeypatch, object_store_resource
):
    from datetime import UTC, datetime, time, timedelta

    monkeypatch.setenv("DESIGNS_DIR", str(folder))
    start = (datetime.now(UTC) - timedelta(days=3)).date()
    write(folder, "live.yaml", design_yaml(mode="mode: live", window=f"window:\n  from: {start}"))

    def today() -> str:
        return datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC).isoformat()

    before = today()
    with dg.instance_for_test() as instance:
        _tick(design_files_sensor, instance, postgres, object_store=object_store_resource)
        (request,) = _tick(new_query_designs_sensor, instance, postgres).run_requests
    config = request.run_config["ops"]["collected_content"]["config"]
    assert config["mode"] == "live"
    assert config["date_from"] == datetime.combine(start, time.min, tzinfo=UTC).isoformat()
    assert config["date_to"] in {before, today()}  # today 00:00 UTC (midnight may pass)
