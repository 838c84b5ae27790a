"""Residents' access: personal invitation codes (邀请码) and the privacy notice they acknowledged."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from consult.compounds.models import Compound
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import str_enum
from consult.db import utcnow
from consult.extensions import db


class RevokeReason(enum.StrEnum):
    REPRINTED = "reprinted"  # a new card sheet replaced it
    LOST = "lost"  # the card was lost or taken by someone else
    REPLACED = "replaced"  # a single new card was issued
    MERGED = "merged"  # its owner was found to be another owner, whose card stands


class Invitation(db.Model):
    """A personal code printed on a card: the QR link's token and the short code typed instead.

    Only keyed hashes are stored; the plain codes exist only while a card sheet is produced.
    Exactly one of ``owner_id`` (may vote) and ``occupant_id`` (surveys and comments only) is set.
    """

    __tablename__ = "invitation"
    __table_args__ = (CheckConstraint("(owner_id IS NULL) <> (occupant_id IS NULL)", name="one_person"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id", ondelete="CASCADE"), index=True)
    occupant_id: Mapped[int | None] = mapped_column(ForeignKey("occupant.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[RevokeReason | None] = mapped_column(str_enum(RevokeReason))
    last_used_at: Mapped[datetime | None]
    #: binds the card's sessions on the server; "leave" replaces it, which ends them all (None: none yet)
    session_token: Mapped[str | None] = mapped_column(String(40))

    compound: Mapped[Compound] = relationship()
    owner: Mapped[Owner | None] = relationship()
    occupant: Mapped[Occupant | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def may_vote(self) -> bool:
        """Only owners cast legal votes; an occupant's code answers surveys and comments."""
        return self.owner_id is not None


class PrivacyAcknowledgement(db.Model):
    """The resident read the notice of purpose, data kept and retention, and said "I understand" (PIPL)."""

    __tablename__ = "privacy_acknowledgement"
    __table_args__ = (CheckConstraint("(owner_id IS NULL) <> (occupant_id IS NULL)", name="one_person"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id", ondelete="CASCADE"), unique=True)
    occupant_id: Mapped[int | None] = mapped_column(
        ForeignKey("occupant.id", ondelete="CASCADE"), unique=True
    )
    notice_version: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
