"""The dynamic networks' chart: what Gephi's timeline will play, bucket by bucket."""

from __future__ import annotations

from collections import Counter

from observatory_pipelines.analysis.plots import _png, plt


def bucket_activity_chart(buckets: list[dict], edges: dict[str, list[dict]]) -> bytes:
    """Records per bucket (bars) and each network's edges per bucket (lines)."""
    fig, records_axis = plt.subplots(figsize=(8, 3.5))
    if buckets:
        labels = [row["bucket"] for row in buckets]
        positions = range(len(labels))
        records_axis.bar(positions, [row["records"] for row in buckets], color="#cccccc",
                         label="records")  # fmt: skip
        records_axis.set_ylabel("records")
        edges_axis = records_axis.twinx()
        for name, rows in edges.items():
            per_bucket = Counter(row["bucket"] for row in rows)
            edges_axis.plot(positions, [per_bucket[label] for label in labels], marker=".",
                            label=f"{name} edges")  # fmt: skip
        edges_axis.set_ylabel("edges")
        edges_axis.legend(loc="upper left", fontsize="small")
        step = max(1, len(labels) // 12)
        records_axis.set_xticks(list(positions)[::step], labels[::step], rotation=45, ha="right")
    else:
        records_axis.text(0.5, 0.5, "no records in scope", ha="center", va="center")
        records_axis.set_axis_off()
    records_axis.set_title("Records and network edges per time bucket")
    return _png(fig)
