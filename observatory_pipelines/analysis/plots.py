"""PNG pictures for asset metadata: a markdown image the Dagster UI shows inline."""

from __future__ import annotations

import base64
import io
from collections import Counter
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # no display in workers; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def volume_chart(volume: list[dict], granularity: str) -> bytes:
    """Records per period: the total, and one line per arena."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    if volume:
        periods = [datetime.fromisoformat(row["period"]) for row in volume]
        ax.plot(periods, [row["count"] for row in volume], label="all", linewidth=2, marker="o")
        for arena in sorted({a for row in volume for a in row["arenas"]}):
            counts = [row["arenas"].get(arena, 0) for row in volume]
            ax.plot(periods, counts, label=arena, linewidth=1, marker=".")
        ax.legend(loc="upper left", fontsize="small")
        fig.autofmt_xdate()
    else:
        ax.text(0.5, 0.5, "no records in scope", ha="center", va="center")
    ax.set_title(f"Records per {granularity}")
    ax.set_ylabel("records")
    return _png(fig)


def degree_distribution(graph: dict, title: str) -> bytes:
    """How many nodes have each degree."""
    fig, ax = plt.subplots(figsize=(6, 3))
    counts = Counter(node.get("degree", 0) for node in graph["nodes"])
    if counts:
        degrees = sorted(counts)
        ax.bar(degrees, [counts[d] for d in degrees])
        ax.set_xticks(degrees if len(degrees) <= 20 else degrees[:: max(1, len(degrees) // 20)])
    else:
        ax.text(0.5, 0.5, "empty network", ha="center", va="center")
    ax.set_title(title)
    ax.set_xlabel("degree")
    ax.set_ylabel("nodes")
    return _png(fig)
