"""Content versions (内容版本): numbers that grow with every committed change to what residents can be
shown, so that a page rendered for one version can be kept until the next.

- ``compound.content_version`` moves with any change shown to the compound's residents in common.
- ``owner.content_version`` moves with an owner's own ballots, which show only on that owner's pages and
  on those of anyone holding a live proxy of theirs (whose versions move too). A ballot does not move its
  compound's version, so the home pages of a compound stay kept while its vote goes on; the round's
  closing moves it. A page showing live participation must not be kept by these versions alone.
- Receipts and cards move nothing (``QUIET``): a receipt shows on the voter's receipt page, and publicly
  once the round closes; a card's use and sessions concern its holder alone.

Every flush of the ORM is watched: each row added, changed or deleted is traced to its compound (its own
``compound_id``, its round's compound, or its parent row's, following foreign keys). Just before the
transaction commits, the versions touched move by one, in the same transaction: the change and its new
version are committed together or not at all.

Bulk statements (``update()``, ``delete()``, ``insert()`` run through the session) name what they touch
with ``.execution_options(compound_id=…)`` or ``.execution_options(owner_id=…)`` (ballots); one that
names neither counts as touching every compound. A table in ``NOT_SHOWN`` (the audit log, the outbox,
staff accounts) moves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session
from sqlalchemy.orm import object_mapper
from sqlalchemy.orm.util import identity_key

#: tables whose rows no resident or public page shows
NOT_SHOWN = frozenset(
    {"audit_entry", "outbox_message", "user_account", "recovery_code", "staff_session", "notify_unsubscribe"}
)
#: tables whose rows show on their owner's pages only (and their proxies'), by the column naming the owner
#: (a row naming no owner, an occupant's privacy acknowledgement, moves the compound's version)
OWN = {"ballot": "owner_id", "privacy_acknowledgement": "owner_id"}
#: tables whose rows show only once their round has moved on (which moves the compound's version), or
#: to the card's holder alone, whose kept pages are keyed by the card and its session (``invitation``:
#: its use, its session token, its revocation, which ends its sessions)
QUIET = frozenset({"ballot_receipt", "invitation"})
#: tables above the compound: a change there may show on every compound's pages
ABOVE = frozenset({"district", "street", "cluster"})
#: the execution options naming the compound or the owner of a bulk statement (None: no visible change)
OPTION = "compound_id"
OWNER_OPTION = "owner_id"
EVERY = "every"
_TOUCHED = "touched_compounds"
_OWNERS = "touched_owners"

_LOOKED_UP = "compound_of_row"
_UNKNOWN = object()


def compound_table() -> Table:
    from consult.compounds.models import Compound

    return Compound.__table__  # type: ignore[return-value]


def _parent_keys(table: Table) -> list[tuple[str, str]]:
    """The columns leading towards the compound, with the tables they point at, the surest first: its
    ``compound_id``, its ``round_id``, then its other foreign keys in order (the first that is set is
    followed)."""
    steps = []
    if "compound_id" in table.c:
        steps.append(("compound_id", "compound"))
    if "round_id" in table.c:
        steps.append(("round_id", "round"))
    for column in table.c:
        for fk in column.foreign_keys:
            target = fk.column.table
            if target.name not in NOT_SHOWN and target.name != table.name and column.name not in dict(steps):
                steps.append((column.name, target.name))
    return steps


def _follow(
    session: Session, values: dict[str, Any], steps: list[tuple[str, str]], depth: int
) -> int | str | None:
    """The compound reached by the first step whose column is set; EVERY when none is."""
    for column, parent in steps:
        if values.get(column) is not None:
            return _row_compound(session, parent, values[column], depth + 1)
    return EVERY


def _loaded(session: Session, table_name: str, row_id: int, column: str) -> Any:
    """``column`` of a row the session holds already, or ``_UNKNOWN``."""
    cls = _classes().get(table_name)
    obj = None if cls is None else session.identity_map.get(identity_key(cls, row_id))
    if obj is not None and column in obj.__dict__:
        return obj.__dict__[column]
    return _UNKNOWN


@cache
def _classes() -> dict[str, type]:
    from consult.extensions import db

    return {m.local_table.name: m.class_ for m in db.Model.registry.mappers}


def _row_compound(session: Session, table_name: str, row_id: int, depth: int = 0) -> int | str | None:
    """The compound of one stored row, by walking its foreign keys (remembered for the transaction)."""
    if table_name == "compound":
        return row_id
    if table_name in ABOVE:
        return EVERY
    looked_up = session.info.setdefault(_LOOKED_UP, {})
    key = (table_name, row_id)
    if key not in looked_up:
        table = compound_table().metadata.tables[table_name]
        steps = _parent_keys(table)
        if not steps or depth > 8:
            return EVERY
        values = {column: _loaded(session, table_name, row_id, column) for column, _parent in steps}
        if any(value is _UNKNOWN for value in values.values()):
            columns = [table.c[column] for column, _parent in steps]
            row = session.connection().execute(select(*columns).where(table.c.id == row_id)).first()
            if row is None:  # gone already (deleted in this flush): its compound cannot be told
                return EVERY
            values = dict(zip([column for column, _parent in steps], row, strict=True))
        looked_up[key] = _follow(session, values, steps, depth)
    return looked_up[key]


def compound_of(session: Session, obj: Any) -> int | str | None:
    """The compound whose pages a change to ``obj`` may alter: its id, None for none, EVERY when it may
    be any."""
    table: Table = object_mapper(obj).local_table  # type: ignore[assignment]
    if table.name in NOT_SHOWN or table.name in QUIET:
        return None
    if table.name in OWN and getattr(obj, OWN[table.name]) is not None:
        touch_owners(session, [getattr(obj, OWN[table.name])])
        return None
    if table.name == "compound":
        return obj.id
    if table.name in ABOVE:
        return EVERY
    steps = _parent_keys(table)
    if "compound_id" in table.c and obj.compound_id is None:
        return None  # a row of no compound (a district-wide audit entry, say)
    return _follow(session, {column: getattr(obj, column, None) for column, _parent in steps}, steps, 0)


def touch(session: Session, compounds: Iterable[int | str | None]) -> None:
    touched = session.info.setdefault(_TOUCHED, set())
    touched.update(c for c in compounds if c is not None)


def touch_owners(session: Session, owners: Iterable[int | None]) -> None:
    touched = session.info.setdefault(_OWNERS, set())
    touched.update(o for o in owners if o is not None)


def _after_flush(session: Session, _context: Any) -> None:
    changed = list(session.new) + list(session.deleted)
    changed += [obj for obj in session.dirty if session.is_modified(obj, include_collections=False)]
    touch(session, (compound_of(session, obj) for obj in changed))


def _bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.local_table.name in NOT_SHOWN | QUIET:
        return
    options = state.execution_options
    if OWNER_OPTION in options:
        touch_owners(state.session, [options[OWNER_OPTION]])
    else:
        touch(state.session, [options.get(OPTION, EVERY)])


def _before_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this hook: its changes must be seen here
    touched = session.info.pop(_TOUCHED, None)
    owners = session.info.pop(_OWNERS, None)
    session.info.pop(_LOOKED_UP, None)
    if touched:
        compound = compound_table()
        bump = update(compound).values(content_version=compound.c.content_version + 1)
        if EVERY not in touched:
            bump = bump.where(compound.c.id.in_(sorted(touched)))
        session.connection().execute(bump)
    if owners:
        owner, proxy = (compound_table().metadata.tables[name] for name in ("owner", "vote_proxy"))
        holders = select(proxy.c.proxy_owner_id).where(
            proxy.c.owner_id.in_(sorted(owners)), proxy.c.revoked_at.is_(None)
        )
        session.connection().execute(
            update(owner)
            .where(owner.c.id.in_(sorted(owners)) | owner.c.id.in_(holders))
            .values(content_version=owner.c.content_version + 1)
        )


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_TOUCHED, None)
    session.info.pop(_OWNERS, None)
    session.info.pop(_LOOKED_UP, None)


def watch_changes() -> None:
    """Listen on every ORM session (called at start-up; again changes nothing)."""
    for name, listener in (
        ("after_flush", _after_flush),
        ("do_orm_execute", _bulk),
        ("before_commit", _before_commit),
        ("after_rollback", _forget),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
