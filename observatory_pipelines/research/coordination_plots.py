"""Chart of the co-sharing analysis: the pair weights and where the cut falls."""

from __future__ import annotations

from typing import Any

from observatory_pipelines.analysis.plots import _png, plt


def weight_chart(weights: list[dict[str, Any]], cutoffs: dict[str, float]) -> bytes:
    """Per object type, account pairs by weight (distinct objects co-shared, log scale) and
    the weight an edge needs to be kept."""
    fig, axes = plt.subplots(1, len(cutoffs), figsize=(5 * len(cutoffs), 3.2), squeeze=False)
    for ax, (object_type, cutoff) in zip(axes[0], cutoffs.items(), strict=True):
        rows = [w for w in weights if w["object_type"] == object_type]
        if rows:
            ax.bar([w["weight"] for w in rows], [w["pairs"] for w in rows])
            ax.axvline(cutoff - 0.5, color="red", linestyle="--", label=f"kept: ≥ {cutoff:g}")
            ax.set_yscale("log")
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "no co-shares", ha="center", va="center")
        ax.set_title(f"Co-sharing pairs ({object_type})")
        ax.set_xlabel("distinct objects co-shared (edge weight)")
        ax.set_ylabel("account pairs")
    return _png(fig)
