"""Receipt codes: one for every ballot cast, random, and public after the round closes without a name or a
choice, so that every voter can check that theirs was counted."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select

from consult.extensions import db
from consult.residents.rules import CODE_ALPHABET
from consult.rounds.models import Round
from consult.voting.counting import Channel
from consult.voting.models import Ballot
from consult.voting.models import BallotReceipt
from consult.voting.models import Proxy

#: 12 characters of the unambiguous alphabet (about 59 bits), printed in three groups of four; a card's
#: code has 10, so the two are never mistaken for one another
RECEIPT_LENGTH = 12


def new_receipt_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(RECEIPT_LENGTH))


def format_receipt(code: str) -> str:
    """``K7MP9QXR2TAB`` → ``K7MP-9QXR-2TAB``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def read_receipt(typed: str) -> str | None:
    """What a resident typed, as a receipt code (full-width, spaces, dashes and case do not matter)."""
    text = re.sub(r"[\s\-_.·—]+", "", unicodedata.normalize("NFKC", typed).upper())
    if len(text) != RECEIPT_LENGTH or any(c not in CODE_ALPHABET for c in text):
        return None
    return text


def issue_receipt(round_: Round, channel: Channel, now: datetime, code: str | None = None) -> BallotReceipt:
    """A new receipt of the round, with a new code unless drawn already (flushes; a clash of codes, once
    in 10^17, fails the unique index and the caller's retry draws another)."""
    receipt = BallotReceipt(
        round_id=round_.id, code=code or new_receipt_code(), channel=channel, created_at=now
    )
    db.session.add(receipt)
    db.session.flush()
    return receipt


@dataclass(frozen=True)
class ReceiptStatus:
    """A receipt as the public list shows it: its code, and whether its ballot is the one that counts."""

    code: str
    counted: bool

    @property
    def printed(self) -> str:
        return format_receipt(self.code)


def receipt_statuses(round_: Round) -> list[ReceiptStatus]:
    """Every receipt of the round, in the order of their codes (which says nothing of time or person)."""
    counted = (
        select(func.max(Ballot.active.cast(Integer)))
        .where(Ballot.receipt_id == BallotReceipt.id)
        .correlate(BallotReceipt)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(BallotReceipt.code, counted)
        .where(BallotReceipt.round_id == round_.id)
        .order_by(BallotReceipt.code)
    ).all()
    return [ReceiptStatus(code, bool(active)) for code, active in rows]


def authorities(round_id: int, owner_id: int, proxy_owner_id: int) -> Select[tuple[int]]:
    """The ids of every authority ``proxy_owner_id`` was given to vote for ``owner_id`` in the round: the
    ballots a proxy cast, which are all of the owner's ballots that proxy may see."""
    return select(Proxy.id).where(
        Proxy.round_id == round_id, Proxy.owner_id == owner_id, Proxy.proxy_owner_id == proxy_owner_id
    )


def owner_receipts(
    round_: Round, owner_id: int, proxy_owner_id: int | None = None
) -> list[tuple[BallotReceipt, bool]]:
    """The receipts of one owner's ballots in the round, the latest first, and whether each counts; for
    their proxy (``proxy_owner_id``), only those of the ballots the proxy cast."""
    query = (
        select(BallotReceipt, func.max(Ballot.active.cast(Integer)))
        .join(Ballot, Ballot.receipt_id == BallotReceipt.id)
        .where(BallotReceipt.round_id == round_.id, Ballot.owner_id == owner_id)
    )
    if proxy_owner_id is not None:
        query = query.where(Ballot.proxy_id.in_(authorities(round_.id, owner_id, proxy_owner_id)))
    rows = db.session.execute(
        query.group_by(BallotReceipt.id).order_by(BallotReceipt.created_at.desc(), BallotReceipt.id.desc())
    ).all()
    return [(receipt, bool(active)) for receipt, active in rows]
