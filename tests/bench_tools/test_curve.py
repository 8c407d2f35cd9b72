"""bench/curve.py builds its scale-curve table and docs block from the result files."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_curve():
    spec = importlib.util.spec_from_file_location("bench_curve", ROOT / "bench" / "curve.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def write_record(folder: Path, benchmark: str, result: dict, load: float, started: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": benchmark,
        "started_at": started,
        "wall_seconds": 12.0,
        "load_average_before": [load, 1.0, 1.0],
        "load_average_after": [load + 0.5, 1.0, 1.0],
        "cores": 2,
        "ram_gib": 23.5,
        "result": result,
    }
    (folder / f"{benchmark}.json").write_text(json.dumps(record))


def test_table_and_doc_block_from_two_sizes(tmp_path):
    curve = load_curve()
    write_record(
        tmp_path / "20000", "ingest", {"ratio": {"median": 1.42}}, 0.8, "2026-12-01T18:00:00+00:00"
    )
    write_record(
        tmp_path / "20000", "partitions", {"ratio": 0.61}, 1.2, "2026-12-01T18:01:00+00:00"
    )
    write_record(
        tmp_path / "100000", "ingest", {"ratio": {"median": 1.55}}, 3.0, "2026-12-01T19:00:00+00:00"
    )
    (tmp_path / "default").mkdir()  # a run without SIZE is not a point on the curve

    sizes = curve.load_records(tmp_path)
    assert list(sizes) == [20000, 100000]
    assert curve.curve_points(sizes) == {
        "ingest: ingest / COPY": {20000: 1.42, 100000: 1.55},
        "partitions: partition move / INSERT SELECT": {20000: 0.61},
    }

    text = curve.table(sizes)
    lines = text.splitlines()
    assert lines[0] == "| benchmark | ratio | 20,000 records | 100,000 records |"
    assert "| ingest | ingest / COPY | 1.42 | 1.55 |" in lines
    assert "| partitions | partition move / INSERT SELECT | 0.61 | not run |" in lines
    assert (
        "| credits (no size: 8,000 operations a phase) | credits / inserts | not run | not run |"
        in lines
    )
    assert any(
        line.startswith(
            "- 20,000 records: 2026-12-01 18:00 UTC, 2 cores, 23.5 GiB RAM, 1-min load 0.8–1.7,"
        )
        for line in lines
    )
    assert any(
        "100,000 records" in line and "(loaded: above the core count)" in line for line in lines
    )

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nbefore\n{curve.BEGIN}\nold table\n{curve.END}\nafter\n")
    curve.write_doc_block(text, doc)
    written = doc.read_text()
    assert "old table" not in written
    assert written.startswith("# Benchmarks\n\nbefore\n" + curve.BEGIN + "\n| benchmark |")
    assert written.endswith(curve.END + "\nafter\n")

    plot = tmp_path / "curve.png"
    curve.plot(curve.curve_points(sizes), plot)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_result_run_by_hand_is_adopted_as_a_point_and_marked(tmp_path):
    curve = load_curve()
    write_record(
        tmp_path / "1000000", "partitions", {"ratio": 0.67}, 1.0, "2026-12-02T00:16:00+00:00"
    )
    result = tmp_path / "ingest_1m.json"
    result.write_text(
        json.dumps(
            {
                "benchmark": "ingest",
                "rows": 1_000_000,
                "ratio": {"median": 1.49},
                "load_average_before": [1.86, 2.4, 2.5],
                "load_average_after": [1.14, 1.6, 2.0],
                "cpus": 2,
                "measured_at": "2026-12-02T01:15:00+00:00",
            }
        )
    )
    record = curve.adopt(result, 1_000_000, tmp_path)
    assert record["adopted"] and record["result"]["ratio"]["median"] == 1.49
    stored = json.loads((tmp_path / "1000000" / "ingest.json").read_text())
    assert stored["command"] == f"adopted: {result}"

    lines = curve.table(curve.load_records(tmp_path)).splitlines()
    assert "| ingest | ingest / COPY | 1.49 † |" in lines
    assert "| partitions | partition move / INSERT SELECT | 0.67 |" in lines
    footer = next(line for line in lines if line.startswith("- 1,000,000 records"))
    assert "1 benchmarks by the runner in 12 s" in footer
    assert f"† run alone by hand: ingest ({result}, 2026-12-02 01:15, load 1.86 → 1.14)" in footer


def test_adopting_a_result_of_another_size_or_benchmark_is_refused(tmp_path):
    curve = load_curve()
    result = tmp_path / "r.json"
    base = {"benchmark": "ingest", "rows": 300_000, "ratio": {"median": 1.47},
            "load_average_before": [1.0], "load_average_after": [1.0]}  # fmt: skip
    result.write_text(json.dumps(base))
    for size, payload, message in (
        (1_000_000, base, "measured 300000 records, not about 1,000,000"),
        (300_000, {**base, "benchmark": "credits"}, "'benchmark' is 'credits'"),
        (300_000, {**base, "ratio": {}}, "none of ratio.median in it"),
        (300_000, {k: v for k, v in base.items() if k != "load_average_after"}, "no load"),
    ):
        result.write_text(json.dumps(payload))
        try:
            curve.adopt(result, size, tmp_path)
        except SystemExit as refused:
            assert message in str(refused)
        else:
            raise AssertionError(f"adopted {payload} at {size}")
    assert not (tmp_path / "300000").exists() and not (tmp_path / "1000000").exists()
