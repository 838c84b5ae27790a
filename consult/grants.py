"""What the application's own PostgreSQL role may do: read and write the tables it works with, only append
to the ones that are a record (the audit log, the ballots, the consensus records), and own nothing, so that
it can neither alter a table nor lift the triggers that keep those records append-only.

The tables belong to the role that migrates (``flask db upgrade``); the app serves with another one, to
which ``flask grant-app-role ROLE`` gives these privileges after each migration.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: the tables the application only reads and appends to, with the column it may still change (a replaced
#: ballot's ``active`` mark); their triggers refuse the rest too (audit/models.py, voting/models.py,
#: dossier/models.py), and without ownership the role cannot lift them
APPEND_ONLY: dict[str, str | None] = {
    "audit_entry": None,
    "ballot": "active",
    "consensus_record": None,
    "record_decision": None,
}
#: the migrations' own table: read, to know the schema's version
READ_ONLY = frozenset({"alembic_version"})
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def privileges_of(table: str) -> str:
    """What the application's role may do with ``table``."""
    if table in READ_ONLY:
        return "SELECT"
    if table in APPEND_ONLY:
        column = APPEND_ONLY[table]
        return "SELECT, INSERT" + (f", UPDATE ({column})" if column else "")
    return "SELECT, INSERT, UPDATE, DELETE"


def grant_statements(role: str, tables: Iterable[str]) -> list[str]:
    """The SQL that gives ``role`` exactly its privileges on ``tables`` (the schema's, as they are now),
    whatever it held before; ValueError for a role name that is not a plain lower-case identifier."""
    if not ROLE_NAME.fullmatch(role):
        raise ValueError(f"not a plain role name (lower case, digits, underscores): {role!r}")
    statements = [f'GRANT USAGE ON SCHEMA public TO "{role}"']
    for table in sorted(tables):
        statements.append(f'REVOKE ALL ON TABLE "{table}" FROM "{role}"')
        statements.append(f'GRANT {privileges_of(table)} ON TABLE "{table}" TO "{role}"')
    statements.append(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    return statements
