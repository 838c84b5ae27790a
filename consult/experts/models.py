"""Expert panels of a scheme round: members, the rubric, conflict declarations, scores, submissions and
the chair's opinion on each scheme."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consult.auth.models import User
from consult.compounds.models import str_enum
from consult.db import utcnow
from consult.experts.rules import Aggregation
from consult.experts.rules import Verdict
from consult.extensions import db
from consult.rounds.models import Round
from consult.schemes.models import Scheme


class Panel(db.Model):
    """The experts scoring the schemes of one scheme round (round 2)."""

    __tablename__ = "expert_panel"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: one panel per scheme round (a repeated round is a new round, with a new panel)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), unique=True)
    chair_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    aggregation: Mapped[Aggregation] = mapped_column(str_enum(Aggregation), default=Aggregation.MEAN)
    #: set once scoring starts (or by hand): the rubric can no longer change
    rubric_frozen: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))

    round: Mapped[Round] = relationship()
    chair: Mapped[User] = relationship()
    members: Mapped[list[PanelMember]] = relationship(
        back_populates="panel", order_by="PanelMember.id", cascade="all, delete-orphan"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="panel", order_by="Criterion.position", cascade="all, delete-orphan"
    )
    reopenings: Mapped[list[PanelReopening]] = relationship(
        back_populates="panel", order_by="PanelReopening.id", cascade="all, delete-orphan"
    )

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


class PanelMember(db.Model):
    """An expert on the panel, or a residents' representative: a say (remarks) but, unless the panel
    grants one, no score."""

    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("panel_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("expert_panel.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: a residents' representative sits on the panel but, by default, does not score
    is_resident_representative: Mapped[bool] = mapped_column(default=False)
    scores: Mapped[bool] = mapped_column(default=True)

    panel: Mapped[Panel] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
    submission: Mapped[Submission | None] = relationship(
        back_populates="member", cascade="all, delete-orphan"
    )


class Criterion(db.Model):
    __tablename__ = "panel_criterion"
    __table_args__ = (
        UniqueConstraint("panel_id", "key"),
        CheckConstraint("weight > 0 AND scale > 0", name="positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("expert_panel.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    weight: Mapped[int]
    scale: Mapped[int] = mapped_column(default=10)
    position: Mapped[int] = mapped_column(default=0)

    panel: Mapped[Panel] = relationship(back_populates="criteria")


class ConflictDeclaration(db.Model):
    """A member's answer, per scheme, to "do you have a conflict of interest?" — made before scoring."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (UniqueConstraint("member_id", "scheme_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    declared: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[PanelMember] = relationship()
    scheme: Mapped[Scheme] = relationship()


class Score(db.Model):
    __tablename__ = "expert_score"
    __table_args__ = (
        UniqueConstraint("member_id", "scheme_id", "criterion_id"),
        CheckConstraint("value >= 0", name="non_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("panel_criterion.id"))
    value: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[PanelMember] = relationship()
    criterion: Mapped[Criterion] = relationship()


class Submission(db.Model):
    """A member's scores are final: from now they may see the others'."""

    __tablename__ = "panel_submission"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id"), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[PanelMember] = relationship(back_populates="submission")


class PanelOpinion(db.Model):
    """The chair's opinion on one scheme."""

    __tablename__ = "panel_opinion"
    __table_args__ = (UniqueConstraint("panel_id", "scheme_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("expert_panel.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    verdict: Mapped[Verdict] = mapped_column(str_enum(Verdict))
    required_changes: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PanelRemark(db.Model):
    """A member's remark on one scheme: how a residents' representative has their say without scoring
    (experts may add one too). Editable until the panel closes."""

    __tablename__ = "panel_remark"
    __table_args__ = (UniqueConstraint("member_id", "scheme_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[PanelMember] = relationship()
    scheme: Mapped[Scheme] = relationship()


class PanelReopening(db.Model):
    """The panel opened again after it closed, because the district review reopened its round: who,
    when, why, and when the closing it undid was. The members' submissions were withdrawn then (their
    scores stay, to be changed and submitted again)."""

    __tablename__ = "panel_reopening"
    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("expert_panel.id"), index=True)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    #: when the panel had closed, before this reopening
    closed_at: Mapped[datetime]

    panel: Mapped[Panel] = relationship(back_populates="reopenings")
    by: Mapped[User] = relationship()
