"""Charts of the time-based research analyses: emergent terms per slice, the spike
timeline, period A vs B per platform (PNG through ``analysis.plots``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from observatory_pipelines.analysis.plots import _png, plt

CHART_SLICES = 6  # the latest slices shown side by side
CHART_TERMS = 10  # terms per slice in the chart
CHART_SERIES = 4  # spike timeline: the series with spikes first, at most this many


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.set_axis_off()


def emergent_terms_chart(terms: list[dict[str, Any]], period: str) -> bytes:
    """The top terms of the latest slices by G², new terms in a darker colour."""
    slices = sorted({r["period"] for r in terms})[-CHART_SLICES:]
    if not slices:
        fig, ax = plt.subplots(figsize=(6, 2))
        _empty(ax, "no slice with a reference period")
        return _png(fig)
    fig, axes = plt.subplots(1, len(slices), figsize=(3.2 * len(slices), 4), squeeze=False)
    for ax, name in zip(axes[0], slices, strict=True):
        rows = [r for r in terms if r["period"] == name][:CHART_TERMS][::-1]
        ax.barh(
            [r["term"] for r in rows],
            [r["keyness_g2"] for r in rows],
            color=["#b2182b" if r["is_new"] else "#8fa9c9" for r in rows],
        )
        ax.set_title(name, fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.set_xlabel("G²", fontsize="x-small")
    fig.suptitle(f"Emergent terms per {period} (red: new)")
    return _png(fig)


def spike_timeline(daily: list[dict[str, Any]], spikes: list[dict[str, Any]]) -> bytes:
    """Daily counts of the series that spiked (else the largest platforms), the baseline
    median and threshold as a band, spikes marked."""
    spiked = {(s["scope"], s["value"]) for s in spikes}
    totals: dict[tuple[str, str], int] = {}
    for row in daily:
        key = (row["scope"], row["value"])
        totals[key] = totals.get(key, 0) + row["count"]
    order = sorted(totals, key=lambda k: (k not in spiked, k[0] != "platform", -totals[k], k))
    series = order[:CHART_SERIES]
    if not series:
        fig, ax = plt.subplots(figsize=(6, 2))
        _empty(ax, "no complete day in scope")
        return _png(fig)
    fig, axes = plt.subplots(len(series), 1, figsize=(9, 2.4 * len(series)), squeeze=False)
    for ax, key in zip(axes[:, 0], series, strict=True):
        rows = [r for r in daily if (r["scope"], r["value"]) == key]
        days = [date.fromisoformat(r["day"]) for r in rows]
        ax.plot(days, [r["count"] for r in rows], color="#333333", linewidth=1, label="records")
        with_base = [r for r in rows if r["threshold"] is not None]
        if with_base:
            ax.fill_between(
                [date.fromisoformat(r["day"]) for r in with_base],
                [r["baseline_median"] for r in with_base],
                [r["threshold"] for r in with_base],
                color="#9ecae1",
                alpha=0.6,
                label="baseline median … threshold",
            )
        marks = [s for s in spikes if (s["scope"], s["value"]) == key]
        ax.scatter(
            [date.fromisoformat(s["day"]) for s in marks],
            [s["count"] for s in marks],
            color="#d7301f",
            zorder=3,
            label="spike",
        )
        ax.set_title(f"{key[0]} {key[1]}", fontsize="small")
        ax.legend(loc="upper left", fontsize="x-small")
    fig.autofmt_xdate()
    return _png(fig)


def period_bars(rows: list[dict[str, Any]], previous: str, current: str) -> bytes:
    """Records per platform in the two periods, side by side."""
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(rows) + 2), 3.5))
    if not rows:
        _empty(ax, "no records in either period")
        return _png(fig)
    positions = range(len(rows))
    width = 0.4
    ax.bar([p - width / 2 for p in positions], [r["previous"] for r in rows], width,
           label=previous, color="#8fa9c9")  # fmt: skip
    ax.bar([p + width / 2 for p in positions], [r["current"] for r in rows], width,
           label=current, color="#b2182b")  # fmt: skip
    ax.set_xticks(list(positions), [r["value"] for r in rows], rotation=30, ha="right")
    ax.set_ylabel("records")
    ax.set_title(f"Records per platform: {previous} vs {current}")
    ax.legend(fontsize="small")
    return _png(fig)
