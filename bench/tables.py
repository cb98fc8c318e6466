"""Medians, spreads and plain-text tables for the benchmark scripts."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float], fmt: str = "{:,.0f}") -> str:
    """``min-max`` of *values*, formatted with *fmt*."""
    return f"{fmt.format(min(values))}-{fmt.format(max(values))}"


def quartiles(values: Sequence[float], fmt: str = "{:,.0f}") -> str:
    """The interquartile range ``p25-p75`` of *values*, formatted with *fmt*."""
    if len(values) < 4:
        return spread(values, fmt)
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f"{fmt.format(q1)}-{fmt.format(q3)}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print *rows* as an aligned table (reStructuredText "simple table")."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    rule = "  ".join("=" * w for w in widths)
    print(rule)
    print("  ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)).rstrip())
    print(rule)
    for row in cells[1:]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(rule)


def describe_machine() -> str:
    """One line naming the interpreter, the CPU count and the load."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import django

    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs ({cpu}), load average {load}"
    )
