"""Rows for the shared SVG bar chart (``templates/_macros/charts.html``), built in Python so that the
template only draws. Lengths are exact fractions rounded once, to a permille of the longest bar."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from consult.surveys.rules import percent_text


@dataclass(frozen=True)
class BarRow:
    """One bar: its label, the value written beside it, and its length in permille (0–1000)."""

    label: str
    value: str
    permille: int


def permille(share: Fraction) -> int:
    """A share between 0 and 1 as a whole permille, rounded half up."""
    clamped = min(max(share, Fraction(0)), Fraction(1))
    return int((clamped * 1000 + Fraction(1, 2)).__floor__())


def share_bar(label: str, count: int, share: Fraction) -> BarRow:
    """A bar of a count and its share: "12 · 40%"."""
    return BarRow(label, f"{count} · {percent_text(share)}", permille(share))


def count_bars(rows: Iterable[tuple[str, int]]) -> list[BarRow]:
    """Bars of plain counts, the largest count drawn full length."""
    pairs = list(rows)
    most = max((n for _label, n in pairs), default=0)
    return [BarRow(label, str(n), permille(Fraction(n, most)) if most else 0) for label, n in pairs]
