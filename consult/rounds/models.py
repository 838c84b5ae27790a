"""Rounds of a compound's consultation (三上三下) and the history of every change of state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consult.compounds.models import Compound
from consult.compounds.models import str_enum
from consult.db import utcnow
from consult.extensions import db
from consult.rounds.rules import OVERTAKEN
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState


class Round(db.Model):
    """One round (一上一下) of a compound. A failed round is repeated as a new attempt with the same
    number; the history keeps both."""

    __tablename__ = "round"
    __table_args__ = (UniqueConstraint("compound_id", "number", "attempt"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    number: Mapped[int]
    attempt: Mapped[int] = mapped_column(default=1)
    kind: Mapped[RoundKind] = mapped_column(str_enum(RoundKind))
    state: Mapped[RoundState] = mapped_column(str_enum(RoundState), default=RoundState.DRAFT)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    #: days the answer stays on public notice (公示) before the round is done
    notice_days: Mapped[int] = mapped_column(default=7)
    published_at: Mapped[datetime | None]
    notice_ends_at: Mapped[datetime | None]
    #: a repeat names the failed attempt it replaces
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    compound: Mapped[Compound] = relationship()
    events: Mapped[list[RoundEvent]] = relationship(
        back_populates="round", order_by="RoundEvent.id", cascade="all, delete-orphan"
    )

    @property
    def overtaken(self) -> bool:
        """Failed because an earlier round was reopened after this one took its input (its result no
        longer stands; it is held again)."""
        return self.state is RoundState.FAILED and bool(self.events) and self.events[-1].action == OVERTAKEN


class RoundEvent(db.Model):
    """A change of a round's state: who, when, from what to what, and why."""

    __tablename__ = "round_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[RoundState | None] = mapped_column(str_enum(RoundState))
    to_state: Mapped[RoundState] = mapped_column(str_enum(RoundState))
    reason: Mapped[str] = mapped_column(Text, default="")

    round: Mapped[Round] = relationship(back_populates="events")
