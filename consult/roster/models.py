"""Roster imports: each file a worker uploaded, what it did, and by whom."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from consult.compounds.models import str_enum
from consult.db import utcnow
from consult.extensions import db


class ImportState(enum.StrEnum):
    PREVIEWED = "previewed"  # parsed and valid, waiting for the worker's confirmation
    APPLIED = "applied"


class RosterImport(db.Model):
    """One uploaded roster file (名册). The file is kept only until it is applied or dropped."""

    __tablename__ = "roster_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[ImportState] = mapped_column(str_enum(ImportState), default=ImportState.PREVIEWED)
    #: JSON: counts created / updated / unchanged, as shown to the worker
    summary: Mapped[str] = mapped_column(Text, default="{}")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
