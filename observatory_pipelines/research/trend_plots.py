"""Charts of the time-based research analyses: emergent terms per slice, the spike
timeline, period A vs B per platform, language and sentiment by platform (PNG through
``analysis.plots``)."""

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


LANGUAGES_SHOWN = 5  # the most frequent languages over all platforms; the rest as "other"


def language_shares(rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Per language (the most frequent over all platforms, then "other"), its share of each
    platform's records, in the order of ``rows``; languages no platform has are left out."""
    totals: dict[str, int] = {}
    for row in rows:
        for language, count in (row["languages"] or {}).items():
            totals[language] = totals.get(language, 0) + count
    shown = sorted(totals, key=lambda lang: (-totals[lang], lang))[:LANGUAGES_SHOWN]
    out: dict[str, list[float]] = {}
    for language in [*shown, "other"]:
        shares = []
        for row in rows:
            counts = row["languages"] or {}
            part = (
                counts.get(language, 0)
                if language != "other"
                else sum(v for k, v in counts.items() if k not in shown)
            )
            shares.append(round(part / row["records"], 4) if row["records"] else 0.0)
        if any(shares):
            out[language] = shares
    return out


def platform_language_sentiment(rows: list[dict[str, Any]]) -> bytes:
    """Per platform: the language mix as shares of its records (stacked), and the mean
    sentiment of its scored records (a dot; none when nothing was scored)."""
    fig, (mix, tone) = plt.subplots(1, 2, figsize=(max(7, 1.1 * len(rows) + 5), 3.8))
    if not rows:
        _empty(mix, "no records")
        _empty(tone, "no records")
        return _png(fig)
    names = [row["platform"] for row in rows]
    positions = list(range(len(rows)))
    bottom = [0.0] * len(rows)
    for language, shares in language_shares(rows).items():
        mix.bar(positions, shares, 0.6, bottom=bottom, label=language)
        bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
    mix.set_xticks(positions, names, rotation=30, ha="right")
    mix.set_ylim(0, 1)
    mix.set_ylabel("share of records")
    mix.set_title("Language by platform")
    mix.legend(fontsize="x-small", loc="upper right")
    scored = [(i, row["sentiment_mean"]) for i, row in enumerate(rows) if row["sentiment_scored"]]
    tone.axhline(0, color="#999999", linewidth=0.8)
    if scored:
        tone.scatter([i for i, _ in scored], [m for _, m in scored], color="#b2182b", zorder=3)
    else:
        tone.text(0.5, 0.5, "no scored records", ha="center", va="center", transform=tone.transAxes)
    tone.set_xticks(positions, names, rotation=30, ha="right")
    tone.set_ylim(-1, 1)
    tone.set_ylabel("mean sentiment (−1 … 1)")
    tone.set_title("Sentiment by platform")
    return _png(fig)
