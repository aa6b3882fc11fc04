"""Figures of runs side by side: what changes when only one setting does.

The lesson this is built for: the same URL with the delay off and on. Off, recv sizes
vary with how the data happened to arrive; on, nearly every recv is full (its size is the
bufsize), because the kernel's buffer fills while we pause.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sockview.core.run import Run

HISTOGRAM_BINS = 8
"""Bars of the recv-size histogram: equal slices of 1 byte to the bufsize."""


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One run, summed up."""

    label: str
    recvs: int
    total: int
    """Raw bytes received, header included."""
    duration: float
    """Seconds from the connect to the last recv."""
    rate: float | None
    """Bytes a second over the whole run."""
    mean_size: float
    median_size: float
    full_share: float
    """The share of recvs that came back full (size == bufsize), 0 to 1."""
    bufsize: int
    delay: str
    """How the delay stood: `off`, `0.25 s`, or `changed` when it was switched."""
    histogram: tuple[int, ...]
    """Recv counts by size: bin i holds sizes in (i, i + 1] * bufsize / bins."""


def figures(run: Run, label: str = "", bins: int = HISTOGRAM_BINS) -> RunFigures:
    sizes = run.log.sizes
    count = len(sizes)
    bufsize = max(run.bufsize, 1)
    histogram = [0] * bins
    for size in sizes:
        histogram[min(bins - 1, max(0, (size - 1) * bins // bufsize))] += 1
    return RunFigures(
        label=label or run.target.url,
        recvs=count,
        total=run.total,
        duration=run.elapsed,
        rate=run.rate(window_ns=None),
        mean_size=statistics.fmean(sizes) if count else 0.0,
        median_size=float(statistics.median(sizes)) if count else 0.0,
        full_share=sum(1 for size in sizes if size >= bufsize) / count if count else 0.0,
        bufsize=bufsize,
        delay=_delay_words(run),
        histogram=tuple(histogram),
    )


def _delay_words(run: Run) -> str:
    states = {(d.enabled, d.seconds if d.enabled else 0.0) for d in run.delays}
    if len(states) > 1:
        return "changed"
    if not states:
        return "off"
    enabled, seconds = states.pop()
    return f"{seconds:g} s" if enabled else "off"


def sparkline_points(run: Run, span_ns: int, width: int) -> list[int]:
    """Bytes received in each of `width` equal slices of `span_ns` (one time axis for
    every run compared): never one point per recv."""
    points = [0] * max(width, 1)
    if span_ns <= 0:
        return points
    times, sizes = run.log.times_ns, run.log.sizes
    last = len(points) - 1
    for time_ns, size in zip(times, sizes, strict=False):
        points[min(last, time_ns * len(points) // span_ns)] += size
    return points


def table(rows: list[RunFigures]) -> str:
    """The figures as a plain text table, one column per run."""
    lines: list[tuple[str, list[str]]] = [
        ("run", [f.label for f in rows]),
        ("delay", [f.delay for f in rows]),
        ("bufsize", [str(f.bufsize) for f in rows]),
        ("recvs", [f"{f.recvs:,}" for f in rows]),
        ("bytes", [f"{f.total:,}" for f in rows]),
        ("duration", [f"{f.duration:.3f} s" for f in rows]),
        ("rate", [_rate(f.rate) for f in rows]),
        ("mean recv", [f"{f.mean_size:,.0f} B" for f in rows]),
        ("median recv", [f"{f.median_size:,.0f} B" for f in rows]),
        ("full recvs", [f"{f.full_share:.0%}" for f in rows]),
    ]
    bins = len(rows[0].histogram) if rows else 0
    for index in range(bins):
        low = [index * f.bufsize // bins + 1 for f in rows]
        high = [(index + 1) * f.bufsize // bins for f in rows]
        name = f"size {low[0]}-{high[0]}" if len(set(high)) == 1 else f"size bin {index + 1}"
        lines.append((name, [str(f.histogram[index]) for f in rows]))
    name_width = max(len(name) for name, _ in lines)
    widths = [max(len(values[i]) for _, values in lines) for i in range(len(rows))]
    out = []
    for name, values in lines:
        cells = "  ".join(value.rjust(width) for value, width in zip(values, widths, strict=True))
        out.append(f"{name.ljust(name_width)}  {cells}".rstrip())
    return "\n".join(out) + "\n"


def _rate(rate: float | None) -> str:
    if rate is None:
        return "-"
    for unit in ("B/s", "kB/s", "MB/s"):
        if rate < 1000:
            return f"{rate:.0f} {unit}" if unit == "B/s" else f"{rate:.1f} {unit}"
        rate /= 1000
    return f"{rate:.1f} GB/s"
