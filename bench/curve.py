"""The scale curve (issue 20, target 5): every benchmark at one database size, and the
table + plot of each ratio against size over all sizes measured so far.

    python bench/curve.py run --size 100000 [--repeat 1] [--skip rss_collection ...]
    python bench/curve.py run            # every benchmark at its own default (make bench)
    python bench/curve.py adopt bench/results/ingest_1m.json --size 1000000
    python bench/curve.py report

``run`` starts each script in ``bench/`` with the size mapped onto its own argument (see
``BENCHMARKS``: most build their database with ``--rows``; backup's ``--rows`` counts rows of
its ~1.4 kB fill, so a size of N records is N such rows instead of its default 1 GiB), and
writes the JSON line it prints, wrapped with the load average before/after, cores, RAM and
wall time, to ``bench/results/curve/<size>/<name>.json``. Scripts that measure something
without a database size (credit operations, MiB uploaded, feeds fetched) run at their own
default and the table says so. The scripts also write their usual
``bench/results/<name>.json``; a curve run puts back what was there, so the recorded
full-size figures are not overwritten by a small run.

``adopt`` takes a result a script wrote when it was run by hand at one of the curve's sizes
(a long benchmark run alone, under the benchmark lock) and records it as that size's point,
marked as adopted: the table shows it with a dagger and names the file it came from.

``report`` reads every ``bench/results/curve/*/`` and rewrites the block between
``<!-- scale-curve:begin -->`` and ``<!-- scale-curve:end -->`` in docs/benchmarks.md and
the plot docs/benchmarks/scale_curve.png (one line per ratio, log x).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CURVE = RESULTS / "curve"
DOC = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "benchmarks" / "scale_curve.png"
BEGIN, END = "<!-- scale-curve:begin -->", "<!-- scale-curve:end -->"


@dataclass(frozen=True)
class Benchmark:
    name: str
    argv: tuple[str, ...]  # after the interpreter
    size_arg: str | None  # the flag the size goes to; None: the script has no database size
    repeat_arg: str | None  # its "how many runs" flag, if any
    ratios: dict[str, str]  # label -> dotted path in the script's JSON line
    unsized: str = ""  # what it measures instead, when size_arg is None
    result_file: str = ""  # the bench/results/ file the script writes; default <name>.json


BENCHMARKS = (
    Benchmark(
        "ingest", ("bench/ingest.py",), "--rows", "--runs", {"ingest / COPY": "ratio.median"}
    ),
    Benchmark(
        "partitions",
        ("bench/partitions.py",),
        "--rows",
        None,
        {"partition move / INSERT SELECT": "ratio"},
    ),
    Benchmark(
        "backup", ("bench/backup.py",), "--rows", "--repeat", {"backup / pg_dump + gzip": "ratio"}
    ),
    Benchmark(
        "analysis",
        ("bench/analysis.py", "--formats", "csv,ndjson,parquet"),
        "--rows",
        "--repeat",
        {
            "suite / scan": "suite_vs_scan",
            "CSV / COPY": "exports.csv.vs_copy",
            "NDJSON / COPY": "exports.ndjson.vs_copy",
            "Parquet / COPY": "exports.parquet.vs_copy",
        },
    ),
    Benchmark(
        "incremental",
        ("bench/incremental.py",),
        "--rows",
        "--repeat",
        {"incremental / full": "suite_incremental_vs_full"},
    ),
    Benchmark(
        "enrichments",
        ("bench/enrichments.py",),
        "--rows",
        "--repeat",
        {"enrichments +1 % / first run": "total_ratio"},
    ),
    Benchmark(
        "research",
        ("bench/research.py",),
        "--rows",
        "--repeat",
        {"research / scan": "total_vs_scan"},
    ),
    Benchmark(
        "credits",
        ("bench/credits.py",),
        None,
        None,
        {"credits / inserts": "ratio"},
        "8,000 operations a phase",
    ),
    Benchmark(
        "object_store_upload",
        ("bench/object_store_upload.py",),
        None,
        "--repeat",
        {"upload speed-up": "ratio"},
        "64 MiB",
    ),
    Benchmark(
        "rss_fetch",
        ("bench/rss_fetch.py",),
        None,
        "--repeat",
        {"rss fetch speed-up": "ratio"},
        "100 feeds",
    ),
    Benchmark(
        "rss_collection",
        ("bench/rss_fetch.py", "--scenario", "collection"),
        None,
        "--repeat",
        {"rss collection / spacing bound": "ratio"},
        "2,000 feeds",
        "rss_fetch.collection.json",
    ),
)


def command(bench: Benchmark, size: int | None, repeat: int | None) -> list[str]:
    argv = [sys.executable, *bench.argv]
    if size is not None and bench.size_arg:
        argv += [bench.size_arg, str(size)]
        # a day's collection is 1 % of the design (10,000 into 1,000,000 in the issue)
        if bench.name == "incremental":
            argv += ["--new", str(max(1, size // 100))]
    if repeat is not None and bench.repeat_arg:
        argv += [bench.repeat_arg, str(repeat)]
    return argv


def last_json_line(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("the benchmark printed no JSON line")


def run_one(bench: Benchmark, size: int | None, repeat: int | None) -> dict:
    argv = command(bench, size, repeat)
    # only the file this script writes: other helpers' runs may be writing theirs meanwhile
    result_file = RESULTS / (bench.result_file or f"{bench.name}.json")
    recorded = result_file.read_bytes() if result_file.exists() else None
    load_before = os.getloadavg()
    started_at = datetime.now(UTC)
    started = time.monotonic()
    try:
        proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    finally:
        # a curve run leaves the recorded default-size result as it was
        if size is not None and recorded is None:
            result_file.unlink(missing_ok=True)
        elif size is not None:
            result_file.write_bytes(recorded)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{bench.name}: {' '.join(argv[1:])} exited with {proc.returncode}")
    return {
        "benchmark": bench.name,
        "size": size,
        "command": " ".join(argv[1:]),
        "sized": bench.size_arg is not None,
        "started_at": started_at.isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "result": last_json_line(proc.stdout),
    }


def adopt(result_path: Path, size: int, curve_dir: Path = CURVE) -> dict:
    """A script's own result file as the curve's point for ``size``: the same JSON line the
    runner would have recorded, with when and under what load it ran taken from the file."""
    result = json.loads(result_path.read_text(encoding="utf-8"))
    bench = next((b for b in BENCHMARKS if b.name == result.get("benchmark")), None)
    if bench is None or bench.size_arg is None:
        raise SystemExit(
            f"{result_path}: 'benchmark' is {result.get('benchmark')!r}, not one of the sized "
            f"benchmarks ({', '.join(b.name for b in BENCHMARKS if b.size_arg)})"
        )
    if not any(dotted(result, path) is not None for path in bench.ratios.values()):
        raise SystemExit(f"{result_path}: none of {', '.join(bench.ratios.values())} in it")
    rows = result.get("rows")
    if not isinstance(rows, int) or not 0.95 * size <= rows <= 1.1 * size:
        raise SystemExit(f"{result_path}: it measured {rows!r} records, not about {size:,}")
    loads = [result.get("load_average_before"), result.get("load_average_after")]
    if not all(isinstance(x, list) and x for x in loads):
        raise SystemExit(f"{result_path}: no load_average_before/after in it")
    when = result.get("measured_at") or result.get("when")
    started_at = (
        str(when)
        if when
        else datetime.fromtimestamp(result_path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    )
    record = {
        "benchmark": bench.name,
        "size": size,
        "command": f"adopted: {result_path.relative_to(ROOT) if result_path.is_relative_to(ROOT) else result_path}",
        "adopted": True,
        "sized": True,
        "started_at": started_at,
        "wall_seconds": None,
        "load_average_before": [round(x, 2) for x in loads[0]],
        "load_average_after": [round(x, 2) for x in loads[1]],
        "cores": result.get("cpus") or os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "result": result,
    }
    folder = curve_dir / str(size)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{bench.name}.json").write_text(json.dumps(record) + "\n", encoding="utf-8")
    return record


def run(size: int | None, repeat: int | None, skip: set[str], only: set[str]) -> None:
    # without a size the scripts' own bench/results/<name>.json are the record, as before
    folder = CURVE / str(size) if size is not None else None
    started = time.monotonic()
    for bench in BENCHMARKS:
        if bench.name in skip or (only and bench.name not in only):
            continue
        print(f"curve: {bench.name} at {size or 'its default size'}", file=sys.stderr, flush=True)
        record = run_one(bench, size, repeat)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{bench.name}.json").write_text(json.dumps(record) + "\n", encoding="utf-8")
        print(json.dumps(record), flush=True)
    print(f"curve: size {size} done in {time.monotonic() - started:.0f} s", file=sys.stderr)


def dotted(data: dict, path: str) -> float | None:
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data if isinstance(data, (int, float)) and not isinstance(data, bool) else None


def load_records(curve_dir: Path) -> dict[int, dict[str, dict]]:
    """size -> benchmark name -> record, for every numbered size folder."""
    sizes: dict[int, dict[str, dict]] = {}
    for folder in sorted(p for p in curve_dir.glob("*") if p.is_dir() and p.name.isdigit()):
        records = {}
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            records[record["benchmark"]] = record
        if records:
            sizes[int(folder.name)] = records
    return dict(sorted(sizes.items()))


def curve_points(sizes: dict[int, dict[str, dict]]) -> dict[str, dict[int, float]]:
    """ratio label -> size -> value, for the sized benchmarks."""
    points: dict[str, dict[int, float]] = {}
    for bench in BENCHMARKS:
        for label, path in bench.ratios.items():
            for size, records in sizes.items():
                value = dotted(records.get(bench.name, {}).get("result", {}), path)
                if value is not None:
                    points.setdefault(f"{bench.name}: {label}", {})[size] = value
    return points


def table(sizes: dict[int, dict[str, dict]]) -> str:
    """The markdown table ratio × size and one line per size on when and where it ran."""
    columns = list(sizes)
    lines = [
        "| benchmark | ratio | " + " | ".join(f"{s:,} records" for s in columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for bench in BENCHMARKS:
        for label, path in bench.ratios.items():
            cells = []
            for size in columns:
                record = sizes[size].get(bench.name)
                value = dotted(record["result"], path) if record else None
                mark = " †" if record and record.get("adopted") else ""
                cells.append("not run" if value is None else f"{value:g}{mark}")
            name = bench.name if bench.size_arg else f"{bench.name} (no size: {bench.unsized})"
            lines.append(f"| {name} | {label} | " + " | ".join(cells) + " |")
    lines.append("")
    for size, records in sizes.items():
        first = min(r["started_at"] for r in records.values())
        loads = [
            x
            for r in records.values()
            for x in (r["load_average_before"][0], r["load_average_after"][0])
        ]
        any_record = next(iter(records.values()))
        by_runner = [r for r in records.values() if not r.get("adopted")]
        adopted = [r for r in records.values() if r.get("adopted")]
        wall = sum(r["wall_seconds"] for r in by_runner)
        loaded = max(loads) > any_record["cores"]
        line = (
            f"- {size:,} records: {first[:16].replace('T', ' ')} UTC, {any_record['cores']} cores, "
            f"{any_record['ram_gib']} GiB RAM, 1-min load {min(loads):g}–{max(loads):g}"
            f"{' (loaded: above the core count)' if loaded else ''}, "
            f"{len(by_runner)} benchmarks by the runner in {wall:,.0f} s"
        )
        if adopted:
            line += "; † run alone by hand: " + ", ".join(
                f"{r['benchmark']} ({r['command'].removeprefix('adopted: ')}, "
                f"{r['started_at'][:16].replace('T', ' ')}, load "
                f"{r['load_average_before'][0]:g} → {r['load_average_after'][0]:g})"
                for r in adopted
            )
        lines.append(line)
    return "\n".join(lines)


def write_doc_block(text: str, doc: Path = DOC) -> None:
    content = doc.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in content and END in content:
        head, rest = content.split(BEGIN, 1)
        content = head + block + rest.split(END, 1)[1]
    else:
        content = (
            content.rstrip("\n") + "\n\n## Scale curve (issue 20, target 5)\n\n" + block + "\n"
        )
    doc.write_text(content, encoding="utf-8")


def plot(points: dict[str, dict[int, float]], out: Path = PLOT) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for index, (label, by_size) in enumerate(points.items()):
        xs = sorted(by_size)
        # the colour cycle has 10 colours: the lines after them are told apart by their dashes
        style = "-" if index < 10 else "--"
        ax.plot(xs, [by_size[x] for x in xs], marker="o", linestyle=style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("records in the benchmark database")
    ax.set_ylabel("ratio (our code / its baseline)")
    ax.set_title("Benchmark ratios against database size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def report() -> None:
    sizes = load_records(CURVE)
    if not sizes:
        raise SystemExit(f"no curve results under {CURVE}: run `make bench SIZE=...` first")
    text = table(sizes)
    text += f"\n\n![ratio against size](benchmarks/{PLOT.name})"
    write_doc_block(text)
    plot(curve_points(sizes))
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="every benchmark at one size")
    run_parser.add_argument("--size", type=int, help="records; default: each script's own default")
    run_parser.add_argument(
        "--repeat", type=int, help="runs per benchmark; default: each script's own"
    )
    run_parser.add_argument("--skip", nargs="+", default=[], choices=[b.name for b in BENCHMARKS])
    run_parser.add_argument("--only", nargs="+", default=[], choices=[b.name for b in BENCHMARKS])
    adopt_parser = sub.add_parser("adopt", help="a result file run by hand as one size's point")
    adopt_parser.add_argument("result", type=Path, help="a bench/results/*.json a script wrote")
    adopt_parser.add_argument("--size", type=int, required=True, help="the curve size it is for")
    sub.add_parser("report", help="table into docs/benchmarks.md and the PNG plot")
    args = parser.parse_args()
    if args.action == "run":
        if args.size is not None and args.size <= 0:
            parser.error(f"--size must be a positive number of records, not {args.size}")
        run(args.size, args.repeat, set(args.skip), set(args.only))
    elif args.action == "adopt":
        record = adopt(args.result.resolve(), args.size)
        print(json.dumps({k: v for k, v in record.items() if k != "result"}))
    else:
        report()


if __name__ == "__main__":
    main()
