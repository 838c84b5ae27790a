"""The survey of a needs round (round 1 up), residents' answers with their history, and the worker's
decision on each need (round 1 down)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consult.compounds.models import str_enum
from consult.db import utcnow
from consult.extensions import db
from consult.rounds.models import Round
from consult.surveys.catalogue import Category
from consult.surveys.rules import Decision
from consult.surveys.rules import QuestionKind
from consult.surveys.rules import Willingness


def localised(zh: str, en: str | None, locale: str) -> str:
    """The English text on English pages when there is one, else the Chinese."""
    return en if en and not locale.startswith("zh") else zh


class Survey(db.Model):
    """The survey of one needs round: the catalogue as it stood when the survey was made, the
    worker's own questions. Editable only while its round is a draft."""

    __tablename__ = "survey"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    round: Mapped[Round] = relationship()
    items: Mapped[list[SurveyItem]] = relationship(
        back_populates="survey", order_by="SurveyItem.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="survey", order_by="Question.position", cascade="all, delete-orphan"
    )


class SurveyItem(db.Model):
    """An item of the catalogue, copied into a survey with both its names."""

    __tablename__ = "survey_item"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    category: Mapped[Category] = mapped_column(str_enum(Category))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]

    survey: Mapped[Survey] = relationship(back_populates="items")

    def name(self, locale: str) -> str:
        return localised(self.name_zh, self.name_en, locale)


class Question(db.Model):
    """A question a worker added: single choice, multiple choice or free text. The Chinese wording is
    required, the English optional (English pages fall back to the Chinese)."""

    __tablename__ = "survey_question"
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind))
    prompt_zh: Mapped[str] = mapped_column(String(500))
    prompt_en: Mapped[str | None] = mapped_column(String(500))
    required: Mapped[bool] = mapped_column(default=False)

    survey: Mapped[Survey] = relationship(back_populates="questions")
    options: Mapped[list[QuestionOption]] = relationship(
        back_populates="question", order_by="QuestionOption.position", cascade="all, delete-orphan"
    )

    def prompt(self, locale: str) -> str:
        return localised(self.prompt_zh, self.prompt_en, locale)


class QuestionOption(db.Model):
    __tablename__ = "survey_question_option"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    label_zh: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str | None] = mapped_column(String(200))

    question: Mapped[Question] = relationship(back_populates="options")

    def label(self, locale: str) -> str:
        return localised(self.label_zh, self.label_en, locale)


class SurveyAnswer(db.Model):
    """One dwelling's answer to a survey. A change is a new row with the next revision; the row it
    replaces gets ``superseded_at``, so the history is kept and the current answer is the one row of the
    dwelling without it. Two answers racing for the same revision are refused by the database.

    ``owner_id``/``occupant_id`` say who answered (for the household's own page and the workers);
    no public page and no aggregate ever shows them.
    """

    __tablename__ = "survey_answer"
    __table_args__ = (UniqueConstraint("survey_id", "dwelling_id", "revision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    dwelling_id: Mapped[int] = mapped_column(ForeignKey("dwelling.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(default=1)
    willingness: Mapped[Willingness] = mapped_column(str_enum(Willingness))
    #: codes of the needs named (at most three, never a safety item)
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: codes of the safety hazards reported
    hazards: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: where the hazard is, in the resident's words (workers only)
    hazard_note: Mapped[str] = mapped_column(Text, default="")
    #: the worker's own questions: question id (as text) → option id, option ids, or free text
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id", ondelete="SET NULL"))
    occupant_id: Mapped[int | None] = mapped_column(ForeignKey("occupant.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None]
    #: a paper survey entered by a worker (``entered_by`` names them), not an answer given online
    on_paper: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    entered_by: Mapped[str | None] = mapped_column(String(100))


class NeedDecision(db.Model):
    """The worker's decision on a need of the needs list: it enters the scheme, or not now (and why)."""

    __tablename__ = "need_decision"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
