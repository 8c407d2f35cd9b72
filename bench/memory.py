"""This process's memory as Linux reports it, for the benchmarks' RSS figures.

VmHWM rather than ``ru_maxrss`` for a peak: ``ru_maxrss`` survives exec, so a worker started
by a benchmark would report its parent's RSS at fork time as its floor; and VmHWM can be
started afresh (``reset_peak``), so one phase's peak is its own.
"""

from __future__ import annotations

from pathlib import Path


def status_mb(field: str) -> float | None:
    """``VmRSS`` (now), ``VmHWM`` (peak) … of this process in MB; None if not reported."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def reset_peak() -> bool:
    """Start this process's VmHWM afresh (``clear_refs`` 5); False where the kernel refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True
