"""The interaction networks' chart: who is addressed most (mentions, replies, quotes)."""

from __future__ import annotations

from collections import Counter, defaultdict

from observatory_pipelines.analysis.plots import _png, plt

TOP_ADDRESSED = 15


def most_addressed_chart(graphs: dict[str, dict], networks: tuple[str, ...]) -> bytes:
    """The accounts receiving the most mentions, replies and quotes (records, stacked by kind)."""
    received: dict[str, Counter] = defaultdict(Counter)
    labels: dict[str, str] = {}
    for name in networks:
        graph = graphs[name]
        labels.update({node["id"]: str(node["label"]) for node in graph["nodes"]})
        for edge in graph["edges"]:
            received[edge["target"]][name] += edge["weight"]
    top = sorted(received, key=lambda n: (-sum(received[n].values()), n))[:TOP_ADDRESSED]
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(len(top), 4) + 1))
    if top:
        rows = list(reversed(top))
        left = [0] * len(rows)
        for name in networks:
            values = [received[n][name] for n in rows]
            ax.barh([labels[n][:40] for n in rows], values, left=left, label=name)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.legend(loc="lower right", fontsize="small")
        ax.set_xlabel("records addressing the account")
    else:
        ax.text(0.5, 0.5, "no mentions, replies or quotes", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title("Most addressed accounts")
    return _png(fig)
