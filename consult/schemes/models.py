"""Round 2: design schemes (alternatives A, B, …), their versions, items and documents; residents'
comments per item and preferences per dwelling; the answer every comment gets."""

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
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import str_enum
from consult.db import utcnow
from consult.extensions import db
from consult.rounds.models import Round
from consult.schemes.rules import AnswerOutcome
from consult.schemes.rules import AuthorRole
from consult.schemes.uploads import DocumentKind


class Scheme(db.Model):
    """One alternative of a round's design (方案A, 方案B), with its versions."""

    __tablename__ = "scheme"
    __table_args__ = (UniqueConstraint("round_id", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    #: A, B, …
    label: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))

    round: Mapped[Round] = relationship()
    versions: Mapped[list[SchemeVersion]] = relationship(
        back_populates="scheme", order_by="SchemeVersion.number", cascade="all, delete-orphan"
    )

    @property
    def first(self) -> SchemeVersion:
        """The version residents commented on."""
        return self.versions[0]

    @property
    def revision(self) -> SchemeVersion | None:
        """The revised version written in the down phase, if any."""
        revised = [v for v in self.versions if v.revision]
        return revised[-1] if revised else None

    @property
    def latest(self) -> SchemeVersion:
        return self.versions[-1]


class SchemeVersion(db.Model):
    """v1 is what residents comment on; a revision (v2) answers their comments. Frozen once the round
    opens (v1) or its answers are published (a revision): see ``rules.version_editable``."""

    __tablename__ = "scheme_version"
    __table_args__ = (UniqueConstraint("scheme_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    number: Mapped[int]
    #: written in the down phase, in answer to the comments
    revision: Mapped[bool] = mapped_column(default=False)
    #: what changed, in a sentence or two (a revision), or the scheme's summary (v1)
    note: Mapped[str] = mapped_column(Text, default="")
    #: the version this one was copied from: the previous version, or one of a failed attempt
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("scheme_version.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))

    scheme: Mapped[Scheme] = relationship(back_populates="versions")
    items: Mapped[list[SchemeItem]] = relationship(
        back_populates="version",
        order_by="[SchemeItem.position, SchemeItem.id]",
        cascade="all, delete-orphan",
    )
    documents: Mapped[list[SchemeDocument]] = relationship(
        back_populates="version", order_by="SchemeDocument.id", cascade="all, delete-orphan"
    )
    #: the comments this revision takes up (adopted in full or in part)
    taken_up: Mapped[list[SchemeComment]] = relationship(
        back_populates="revised_in", order_by="SchemeComment.id"
    )

    @property
    def name(self) -> str:
        """ "A v2"."""
        return f"{self.scheme.label} v{self.number}"


class SchemeItem(db.Model):
    """One thing a version proposes ("rebuild the roof waterproofing"); residents comment per item."""

    __tablename__ = "scheme_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("scheme_version.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: the item of the earlier version this one continues
    derived_from_id: Mapped[int | None] = mapped_column(ForeignKey("scheme_item.id"))

    version: Mapped[SchemeVersion] = relationship(back_populates="items")


class SchemeDocument(db.Model):
    """A drawing (PDF) or picture (JPEG/PNG) of a version, stored under a random name in UPLOAD_FOLDER.

    A revision starts with its predecessor's documents: both rows then name the same stored file."""

    __tablename__ = "scheme_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("scheme_version.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind))
    #: shown and downloaded under this name (cleaned, with the extension of the type found)
    filename: Mapped[str] = mapped_column(String(120))
    stored_name: Mapped[str] = mapped_column(String(40), index=True)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(100))

    version: Mapped[SchemeVersion] = relationship(back_populates="documents")


class SchemeComment(db.Model):
    """意见: a resident's comment on one item. Kept with its answer for the consensus record.

    The author is an owner or an occupant; if the roster later drops them, the comment stays and
    loses only the link to its author (``author_role`` still says which they were)."""

    __tablename__ = "scheme_comment"
    __table_args__ = (CheckConstraint("owner_id IS NULL OR occupant_id IS NULL", name="one_author"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("scheme_item.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id", ondelete="SET NULL"), index=True)
    occupant_id: Mapped[int | None] = mapped_column(
        ForeignKey("occupant.id", ondelete="SET NULL"), index=True
    )
    author_role: Mapped[AuthorRole] = mapped_column(str_enum(AuthorRole))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the revised version that takes this comment up (adopted in full or in part)
    revised_in_id: Mapped[int | None] = mapped_column(ForeignKey("scheme_version.id"), index=True)

    round: Mapped[Round] = relationship()
    item: Mapped[SchemeItem] = relationship()
    owner: Mapped[Owner | None] = relationship()
    occupant: Mapped[Occupant | None] = relationship()
    revised_in: Mapped[SchemeVersion | None] = relationship(back_populates="taken_up")
    answer: Mapped[CommentAnswer | None] = relationship(back_populates="comment", uselist=False)


class CommentAnswer(db.Model):
    """The answer to a comment: adopted, partly adopted or not, and why. A worker may correct it until
    the round's answers are published."""

    __tablename__ = "comment_answer"
    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("scheme_comment.id"), unique=True)
    outcome: Mapped[AnswerOutcome] = mapped_column(str_enum(AnswerOutcome))
    reason: Mapped[str] = mapped_column(Text)
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    comment: Mapped[SchemeComment] = relationship(back_populates="answer")
    answered_by: Mapped[User] = relationship()


class SchemePreference(db.Model):
    """The alternative a dwelling prefers: one per dwelling and round, replaced when changed (the latest
    counts). Whoever of the household stated it is not kept."""

    __tablename__ = "scheme_preference"
    __table_args__ = (UniqueConstraint("round_id", "dwelling_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    dwelling_id: Mapped[int] = mapped_column(ForeignKey("dwelling.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    stated_at: Mapped[datetime] = mapped_column(default=utcnow)

    dwelling: Mapped[Dwelling] = relationship()
    scheme: Mapped[Scheme] = relationship()
