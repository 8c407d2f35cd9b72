"""Charts of the link analyses (link mining, propagation): PNG for the asset's metadata."""

from __future__ import annotations

from typing import Any

from observatory_pipelines.analysis.plots import _png, plt

TOP_BARS = 20


def top_domains_chart(domains: list[dict[str, Any]]) -> bytes:
    """The most linked domains: records linking to each (bars) and their distinct authors."""
    shown = domains[:TOP_BARS]
    fig, ax = plt.subplots(figsize=(7, 0.3 * max(len(shown), 4) + 1))
    if shown:
        names = [d["registered_domain"] for d in reversed(shown)]
        ax.barh(names, [d["n_records"] for d in reversed(shown)], label="records")
        ax.barh(names, [d["n_actors"] for d in reversed(shown)], height=0.4, label="authors")
        ax.legend(loc="lower right", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no links in scope", ha="center", va="center")
    ax.set_title(f"Most linked domains (top {len(shown)})")
    ax.set_xlabel("records linking to the domain")
    return _png(fig)


def lag_chart(series: dict[str, dict[str, list[float]]]) -> bytes:
    """One panel per series (title → platform → lags in minutes): a box per platform with
    every value drawn over it, so small samples stay visible."""
    fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series), 3.5), squeeze=False)
    for ax, (title, by_platform) in zip(axes[0], series.items(), strict=True):
        platforms = sorted(p for p, lags in by_platform.items() if lags)
        if platforms:
            values = [by_platform[p] for p in platforms]
            ax.boxplot(values, showfliers=False)
            for index, lags in enumerate(values, start=1):
                ax.plot([index] * len(lags), lags, ".", alpha=0.5)
            ax.set_xticks(range(1, len(platforms) + 1), platforms, rotation=30)
        else:
            ax.text(0.5, 0.5, "nothing spread", ha="center", va="center")
        ax.set_title(title)
        ax.set_ylabel("lag (minutes)")
    return _png(fig)
