"""The household vote of round 3: its questions, the ballots (append-only), receipts, proxies and the
double entry of paper ballots, and each compound's voting settings."""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import DDL
from sqlalchemy import JSON
from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consult.auth.models import User
from consult.compounds.models import Building
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.compounds.models import str_enum
from consult.db import utcnow
from consult.extensions import db
from consult.rounds.models import Round
from consult.voting.counting import Channel
from consult.voting.counting import Precedence
from consult.voting.counting import QuestionKind
from consult.voting.counting import Scope
from consult.voting.counting import Topic
from consult.voting.counting import rule_from_dict
from consult.voting.counting import valid_choices
from consult.voting.rules import ConsentRule


def localised(zh: str, en: str | None, locale: str) -> str:
    """The English text on English pages when there is one, else the Chinese."""
    return en if en and not locale.startswith("zh") else zh


class VotingSettings(db.Model):
    """A compound's own voting settings; without a row the defaults hold (later act counts, and the
    PROXY_LIMIT of the configuration)."""

    __tablename__ = "voting_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), unique=True)
    precedence: Mapped[Precedence] = mapped_column(str_enum(Precedence), default=Precedence.LATER_SIGNED)
    #: how many other owners one proxy may act for (None: the configuration's PROXY_LIMIT)
    proxy_limit: Mapped[int | None]
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class VoteQuestion(db.Model):
    """A question of a vote round, with its scope and its consent rule (a copy of a preset, or the
    compound's own bars). Defined while the round is a draft; fixed once it opens."""

    __tablename__ = "vote_question"
    __table_args__ = (
        CheckConstraint(
            "(scope = 'compound' AND building_id IS NULL AND unit_id IS NULL)"
            " OR (scope = 'building' AND building_id IS NOT NULL AND unit_id IS NULL)"
            " OR (scope = 'unit' AND unit_id IS NOT NULL)",
            name="scope_place",
        ),
        UniqueConstraint("round_id", "position"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    position: Mapped[int]
    topic: Mapped[Topic] = mapped_column(str_enum(Topic))
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind), default=QuestionKind.YES_NO)
    prompt_zh: Mapped[str] = mapped_column(String(500))
    prompt_en: Mapped[str | None] = mapped_column(String(500))
    #: a choice question's options: [{"key": ..., "zh": ..., "en": ...}]
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    scope: Mapped[Scope] = mapped_column(str_enum(Scope), default=Scope.COMPOUND)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("stair_unit.id"))
    #: the consent rule as stored: see counting.rule_to_dict
    rule: Mapped[dict[str, str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    round: Mapped[Round] = relationship()
    building: Mapped[Building | None] = relationship()
    unit: Mapped[StairUnit | None] = relationship()

    def prompt(self, locale: str) -> str:
        return localised(self.prompt_zh, self.prompt_en, locale)

    @property
    def consent_rule(self) -> ConsentRule:
        return rule_from_dict(self.rule)

    @property
    def option_keys(self) -> list[str]:
        return [o["key"] for o in self.options]

    @property
    def choices(self) -> tuple[str, ...]:
        return valid_choices(self.kind, self.option_keys)

    def option_label(self, key: str, locale: str) -> str | None:
        for option in self.options:
            if option["key"] == key:
                return localised(option["zh"], option.get("en"), locale)
        return None


class BallotReceipt(db.Model):
    """What a voter gets for each ballot cast: a random code, with nothing of who or how. The list of a
    round's receipts is public once the round closes, so every voter can find theirs."""

    __tablename__ = "ballot_receipt"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Proxy(db.Model):
    """委托: a written authority, recorded by a worker with a photo of it, for a person to vote for an
    owner in one round. The proxy is an owner of the compound (and may then vote online with their own
    card) or a person named on the authority (paper only)."""

    __tablename__ = "vote_proxy"
    __table_args__ = (
        CheckConstraint("proxy_owner_id IS NULL OR proxy_owner_id <> owner_id", name="not_self"),
        Index(
            "uq_vote_proxy_live",
            "round_id",
            "owner_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    #: the owner who gave the authority
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"), index=True)
    proxy_owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id"), index=True)
    proxy_name: Mapped[str] = mapped_column(String(100))
    authority_photo: Mapped[str] = mapped_column(String(40))
    authority_sha256: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))

    owner: Mapped[Owner] = relationship(foreign_keys=[owner_id])
    proxy_owner: Mapped[Owner | None] = relationship(foreign_keys=[proxy_owner_id])


class SheetState(enum.StrEnum):
    PENDING = "pending"  # one entry: waits for a second, by another worker
    MISMATCH = "mismatch"  # the entries differ: a third entry or a supervisor decides
    CONFIRMED = "confirmed"  # two entries agree (or the supervisor chose): the ballot counts


#: the sheets still waiting for their second entry or a decision (the states as stored)
UNSETTLED_SHEET = f"state <> '{SheetState.CONFIRMED.value}'"


class Resolution(enum.StrEnum):
    SECOND_ENTRY = "second_entry"
    THIRD_ENTRY = "third_entry"
    SUPERVISOR = "supervisor"


class PaperSheet(db.Model):
    """A signed paper ballot of one owner, with its photo. It counts only once two independent entries
    agree (or a supervisor chose between entries that differ, with a reason).

    An owner has at most one sheet in a round that is not yet settled (pending or in mismatch): a paper
    brought in again is entered a second time on that sheet, never as a new one. The service checks it
    under the owner's lock; the database holds it too (a partial unique index). Once settled, a sheet stays
    confirmed, so an owner may have several confirmed sheets (papers signed again later); which one counts
    is decided by the signing day (see ``counting``)."""

    __tablename__ = "paper_sheet"
    __table_args__ = (
        Index(
            "uq_paper_sheet_unsettled",
            "round_id",
            "owner_id",
            unique=True,
            sqlite_where=text(UNSETTLED_SHEET),
            postgresql_where=text(UNSETTLED_SHEET),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"), index=True)
    state: Mapped[SheetState] = mapped_column(str_enum(SheetState), default=SheetState.PENDING)
    photo: Mapped[str] = mapped_column(String(40))
    photo_sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolution: Mapped[Resolution | None] = mapped_column(str_enum(Resolution))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None]
    resolution_reason: Mapped[str] = mapped_column(Text, default="")
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("ballot_receipt.id"))

    owner: Mapped[Owner] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    receipt: Mapped[BallotReceipt | None] = relationship()
    entries: Mapped[list[PaperEntry]] = relationship(back_populates="sheet", order_by="PaperEntry.number")


class PaperEntry(db.Model):
    """What one worker read off a paper ballot. One entry per worker and sheet (the database refuses a
    second), so the second entry is by another worker."""

    __tablename__ = "paper_entry"
    __table_args__ = (UniqueConstraint("sheet_id", "number"), UniqueConstraint("sheet_id", "entered_by_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("paper_sheet.id"), index=True)
    number: Mapped[int]
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_on: Mapped[date]
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("vote_proxy.id"))
    #: question id (as text) → choice
    choices: Mapped[dict[str, str]] = mapped_column(JSON)
    #: the entry the ballot was counted from
    chosen: Mapped[bool] = mapped_column(default=False)

    sheet: Mapped[PaperSheet] = relationship(back_populates="entries")
    entered_by: Mapped[User] = relationship()
    proxy: Mapped[Proxy | None] = relationship()


class Ballot(db.Model):
    """One owner's act on one question: an online vote or a confirmed paper ballot. **Append-only**: a
    change of vote is a new row that names the row it replaced (``supersedes_id``); the replaced row only
    loses its ``active`` flag, and no row is ever deleted. The database keeps at most one active ballot
    per owner and question (a partial unique index), whatever races the requests run."""

    __tablename__ = "ballot"
    __table_args__ = (
        Index(
            "uq_ballot_active",
            "question_id",
            "owner_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
        Index("ix_ballot_round_owner", "round_id", "owner_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("vote_question.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"))
    choice: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    #: when the act was made: the online submission, or the end of the paper's signing day
    cast_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: who recorded it: resident:<invitation id> online, user:<id> for paper
    actor: Mapped[str] = mapped_column(String(100))
    receipt_id: Mapped[int] = mapped_column(ForeignKey("ballot_receipt.id"), index=True)
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("vote_proxy.id"))
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("paper_sheet.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"))
    active: Mapped[bool] = mapped_column(default=True)

    question: Mapped[VoteQuestion] = relationship()
    receipt: Mapped[BallotReceipt] = relationship()


class AppendOnly(Exception):
    """A ballot was about to be changed or deleted: only its ``active`` flag may be switched off."""


@event.listens_for(Ballot, "before_update")
def _only_the_flag_changes(mapper: Any, connection: Any, target: Ballot) -> None:
    state = inspect(target)
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    if changed - {"active"} or target.active:
        raise AppendOnly(f"ballot {target.id}: only switching off 'active' is allowed, not {sorted(changed)}")


@event.listens_for(Ballot, "before_delete")
def _never_deleted(mapper: Any, connection: Any, target: Ballot) -> None:
    raise AppendOnly(f"ballot {target.id}: ballots are never deleted")


#: The columns of a ballot that never change once it is written (all but ``active``).
FROZEN_COLUMNS = (
    "id",
    "round_id",
    "question_id",
    "owner_id",
    "choice",
    "channel",
    "cast_at",
    "recorded_at",
    "actor",
    "receipt_id",
    "proxy_id",
    "sheet_id",
    "supersedes_id",
)
APPEND_ONLY_MESSAGE = "ballots are append-only: only the active mark of a replaced ballot may be lifted"

#: The database itself refuses to delete a ballot or to change it beyond lifting its ``active`` mark once.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER ballot_no_delete BEFORE DELETE ON ballot "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    "CREATE TRIGGER ballot_no_change BEFORE UPDATE ON ballot "
    "WHEN NOT (OLD.active = 1 AND NEW.active = 0 AND "
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in FROZEN_COLUMNS)
    + f") BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION ballot_append_only() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' AND OLD.active AND NOT NEW.active AND "
    f"({', '.join('NEW.' + c for c in FROZEN_COLUMNS)}) IS NOT DISTINCT FROM "
    f"({', '.join('OLD.' + c for c in FROZEN_COLUMNS)}) THEN RETURN NEW; END IF; "
    f"RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER ballot_append_only BEFORE UPDATE OR DELETE ON ballot "
    "FOR EACH ROW EXECUTE FUNCTION ballot_append_only()",
]

for _statement in SQLITE_TRIGGERS:
    event.listen(Ballot.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_TRIGGERS:
    event.listen(Ballot.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
