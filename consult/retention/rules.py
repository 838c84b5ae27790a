"""When a compound's consultation ended and when its personal data is due to go (pure functions).

A consultation has ended when no round is under way (open, closed or on notice) and either the vote
round's latest attempt is done or a round's latest attempt failed and was not repeated. It ended at the
latest time one of those latest attempts became done or failed. Rounds still in draft after that do not
keep it going: a compound whose vote is done, or whose consultation stopped at a failed round, has no
more input to take.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState

#: three years, counted from the end of the consultation
DEFAULT_RETENTION_DAYS = 1095

UNDER_WAY = frozenset({RoundState.OPEN, RoundState.CLOSED, RoundState.NOTICE})
FINAL = frozenset({RoundState.DONE, RoundState.FAILED})


@dataclass(frozen=True)
class RoundEnd:
    """One round attempt as retention sees it: which, its state, and when it became done or failed."""

    number: int
    attempt: int
    kind: RoundKind
    state: RoundState
    ended_at: datetime | None


def latest_attempts(rounds: Iterable[RoundEnd]) -> list[RoundEnd]:
    latest: dict[int, RoundEnd] = {}
    for round_ in rounds:
        if round_.number not in latest or round_.attempt > latest[round_.number].attempt:
            latest[round_.number] = round_
    return [latest[number] for number in sorted(latest)]


def consultation_end(rounds: Sequence[RoundEnd]) -> datetime | None:
    """When the consultation of these rounds ended, or None while it has not."""
    if not rounds or any(r.state in UNDER_WAY for r in rounds):
        return None
    latest = latest_attempts(rounds)
    vote_done = any(r.kind is RoundKind.VOTE and r.state is RoundState.DONE for r in latest)
    stopped = any(r.state is RoundState.FAILED for r in latest)
    if not (vote_done or stopped):
        return None
    ends = [r.ended_at for r in latest if r.state in FINAL and r.ended_at is not None]
    return max(ends) if ends else None


def purge_due(ended_at: datetime | None, now: datetime, retention_days: int) -> bool:
    """Whether the retention period after the end has passed (a period of 0 days: at once)."""
    if ended_at is None:
        return False
    return now >= ended_at + timedelta(days=retention_days)


def mask_name(name: str | None) -> str:
    """张*华 → 张*: the surname and one star (as on public pages)."""
    return name[:1] + "*" if name else ""


def masked_names(names: Sequence[str]) -> list[str]:
    """Masked forms of names that must stay distinct (the occupants of one dwelling): 张*, 张*2, 张*3 …"""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = mask_name(name)
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base}{n}"
        seen.add(candidate)
        out.append(candidate)
    return out
