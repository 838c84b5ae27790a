"""Pure rules about compounds and their rosters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


def natural_key(label: str) -> str:
    """A sort key that orders "2" before "10" and "2-1" before "2-10"."""
    return re.sub(r"\d+", lambda m: m.group(0).zfill(8), label)[:60]


@dataclass(frozen=True)
class Coverage:
    """How much of a compound's roster is known (roster coverage)."""

    dwellings: int
    owned: int
    total_area: Decimal
    owned_area: Decimal
    owners: int
    occupants: int

    @property
    def share(self) -> Fraction:
        """Dwellings with a known owner, as an exact fraction (0 when empty)."""
        return Fraction(self.owned, self.dwellings) if self.dwellings else Fraction(0)

    @property
    def percent(self) -> int:
        """The share as a whole percent, rounded down (never rounds 99.6% up to 100%)."""
        return int(self.share * 100)
