"""The default io_manager on both backends: formats, keys, metadata, partitions, other processes."""

import json
import os
import subprocess
import sys
import textwrap

import dagster as dg
import pandas as pd
import pytest

from observatory_pipelines.resources.io_manager import ObjectStoreIOManager, object_base
from observatory_pipelines.storage.object_store import ObjectNotFound


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "platform": pd.Categorical(["rss", "bluesky", "rss"]),
            "records": pd.array([3, None, 7], dtype="Int64"),
            "share": [0.25, 0.5, 0.25],
            "published_at": pd.to_datetime(
                ["2026-04-01T10:00Z", "2026-04-02T11:30Z", "2026-04-03T00:00Z"], utc=True
            ),
            "title": ["Klima", "Økonomi", None],
            "flag": [True, False, True],
        },
        index=pd.Index([10, 20, 30], name="term_id"),
    )
    return frame


@dg.asset(key_prefix=["analysis"])
def term_frequencies() -> pd.DataFrame:
    return _frame()


@dg.asset(key_prefix=["analysis"])
def run_summary() -> dict:
    return {"terms": ["klima", "økonomi"], "total": 10, "nested": {"ok": True}}


@dg.asset(key_prefix=["analysis"])
def combined(term_frequencies: pd.DataFrame, run_summary: dict) -> list:
    pd.testing.assert_frame_equal(term_frequencies, _frame())
    return [run_summary["total"], int(term_frequencies["records"].sum()), run_summary["terms"]]


@dg.asset
def raw_export() -> bytes:
    return b"\x00\x01binary\xff"


@dg.asset
def readme_text() -> str:
    return "Ærø og Æbelø\n"


def _io(resource) -> dict:
    return {"io_manager": ObjectStoreIOManager(object_store=resource)}


def _metadata(result, asset_key):
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(asset_key)
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_upstream_and_downstream_round_trip(resource):
    store = resource.outputs()
    result = dg.materialize(
        [term_frequencies, run_summary, combined, raw_export, readme_text], resources=_io(resource)
    )
    assert result.success

    keys = [o.key for o in store.list()]
    assert keys == [
        "analysis/combined.json",
        "analysis/run_summary.json",
        "analysis/term_frequencies.parquet",
        "raw_export.bin",
        "readme_text.txt",
    ]
    assert json.loads(store.get_bytes("analysis/combined.json")) == [10, 10, ["klima", "økonomi"]]
    assert store.get_bytes("raw_export.bin") == b"\x00\x01binary\xff"
    assert store.get_bytes("readme_text.txt").decode() == "Ærø og Æbelø\n"

    meta = _metadata(result, ["analysis", "term_frequencies"])
    info = store.stat("analysis/term_frequencies.parquet")
    assert meta["object_key"] == "analysis/term_frequencies.parquet"
    assert meta["bucket"] == store.bucket
    assert meta["size_bytes"] == info.size > 0
    assert meta["row_count"] == meta["dagster/row_count"] == 3
    assert info.metadata["format"] == "parquet"
    assert info.metadata["dagster-asset"] == "analysis/term_frequencies"
    assert info.metadata["dagster-run-id"] == result.run_id
    assert _metadata(result, ["analysis", "combined"])["row_count"] == 3
    assert "row_count" not in _metadata(result, ["analysis", "run_summary"])


def test_downstream_in_a_later_run_reads_stored_upstream(resource):
    assert dg.materialize([term_frequencies, run_summary], resources=_io(resource)).success
    # Another run (its own ephemeral instance) with a new resource object: nothing in memory.
    result = dg.materialize(
        [term_frequencies, run_summary, combined],
        selection=[combined],
        resources=_io(resource.model_copy()),
    )
    assert result.success
    assert result.output_for_node("analysis__combined") == [10, 10, ["klima", "økonomi"]]


def test_upstream_written_by_another_process(s3_object_store_resource, tmp_path):
    """Runs are separate processes: the child writes, this process reads (S3, as deployed)."""
    resource = s3_object_store_resource
    env = dict(os.environ)
    for name in ("MINIO_SECURE", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_REGION"):
        env.pop(name, None)
    env["MINIO_OUTPUTS_BUCKET"] = resource.outputs().bucket
    env["OBJECT_STORE_DIR"] = str(resource.folder())
    env["DAGSTER_HOME"] = str(tmp_path)
    env.update(
        MINIO_ENDPOINT=resource.endpoint,
        MINIO_ACCESS_KEY=resource.access_key,
        MINIO_SECRET_KEY=resource.secret_key,
    )
    child = textwrap.dedent(
        """
        import dataclasses, dagster as dg, pandas as pd
        from observatory_pipelines.resources.io_manager import ObjectStoreIOManager
        from observatory_pipelines.resources.object_store import ObjectStoreResource
        from observatory_pipelines.storage.config import object_store_from_env

        @dg.asset(key_prefix=["analysis"])
        def term_frequencies() -> pd.DataFrame:
            return pd.DataFrame({"records": pd.array([4, 5], dtype="Int64")})

        @dg.asset(key_prefix=["analysis"])
        def run_summary() -> dict:
            return {"terms": ["from child"], "total": 1}

        config = object_store_from_env()
        store = ObjectStoreResource(**dataclasses.asdict(config))
        io = ObjectStoreIOManager(object_store=store)
        assert dg.materialize([term_frequencies, run_summary], resources={"io_manager": io}).success
        """
    )
    subprocess.run([sys.executable, "-c", child], env=env, check=True, timeout=120)

    @dg.asset(key_prefix=["analysis"], name="combined")
    def combined_here(term_frequencies: pd.DataFrame, run_summary: dict) -> list:
        return [run_summary["terms"], term_frequencies["records"].tolist()]

    result = dg.materialize(
        [term_frequencies, run_summary, combined_here],
        selection=[combined_here],
        resources=_io(resource),
    )
    assert result.output_for_node("analysis__combined") == [["from child"], [4, 5]]


daily = dg.DailyPartitionsDefinition(start_date="2026-04-01", end_date="2026-04-04")


@dg.asset(partitions_def=daily)
def daily_counts(context: dg.AssetExecutionContext) -> pd.DataFrame:
    day = context.partition_key
    return pd.DataFrame({"day": [day], "records": [int(day[-2:]) * 100]})


@dg.asset(partitions_def=daily)
def daily_share(daily_counts: pd.DataFrame) -> dict:
    return {"records": int(daily_counts["records"].iloc[0])}


@dg.asset
def all_days(daily_counts: dict) -> dict:
    return {day: int(frame["records"].iloc[0]) for day, frame in sorted(daily_counts.items())}


def test_partitioned_assets_one_object_per_partition(resource):
    store = resource.outputs()
    for day in ("2026-04-01", "2026-04-02", "2026-04-03"):
        result = dg.materialize(
            [daily_counts, daily_share], partition_key=day, resources=_io(resource)
        )
        assert result.success
        assert _metadata(result, ["daily_counts"])["object_key"] == f"daily_counts/{day}.parquet"

    assert [o.key for o in store.list("daily_counts/")] == [
        "daily_counts/2026-04-01.parquet",
        "daily_counts/2026-04-02.parquet",
        "daily_counts/2026-04-03.parquet",
    ]
    assert json.loads(store.get_bytes("daily_share/2026-04-02.json")) == {"records": 200}

    result = dg.materialize([daily_counts, all_days], selection=[all_days], resources=_io(resource))
    assert result.output_for_node("all_days") == {
        "2026-04-01": 100,
        "2026-04-02": 200,
        "2026-04-03": 300,
    }


def test_missing_upstream_names_the_key(resource):
    with pytest.raises(ObjectNotFound, match=r"analysis/(term_frequencies|run_summary)\.\("):
        dg.materialize(
            [term_frequencies, run_summary, combined],
            selection=[combined],
            resources=_io(resource),
        )


def test_format_change_replaces_the_old_object(resource):
    @dg.asset(name="shape_shifter")
    def as_dict() -> dict:
        return {"a": 1}

    @dg.asset(name="shape_shifter")
    def as_frame() -> pd.DataFrame:
        return pd.DataFrame({"a": [1]})

    dg.materialize([as_dict], resources=_io(resource))
    dg.materialize([as_frame], resources=_io(resource))
    assert [o.key for o in resource.outputs().list("shape_shifter")] == ["shape_shifter.parquet"]


def test_none_output_stores_nothing_and_unsupported_type_fails_clearly(resource):
    @dg.asset
    def side_effect_only():
        return None

    @dg.asset
    def odd_type():
        return {1, 2}

    assert dg.materialize([side_effect_only], resources=_io(resource)).success
    assert list(resource.outputs().list()) == []
    with pytest.raises(TypeError, match="cannot store a set"):
        dg.materialize([odd_type], resources=_io(resource))


def test_multi_partition_keys_become_folders():
    key = dg.MultiPartitionKey({"month": "2026-04", "arena": "news/rss"})
    assert object_base(["collection", "counts"], key) == "collection/counts/news%2Frss/2026-04"
    assert object_base(["a b"], "x y") == "a%20b/x%20y"
