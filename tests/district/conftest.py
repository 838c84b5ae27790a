"""Fixtures of the district's tests: staff of each role, a query counter, the engine's content hooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace

import pytest
from sqlalchemy import event

from consult.auth.models import Role
from consult.district.participation import BULK_ANSWERED
from consult.extensions import db
from consult.rounds.services import CONTENT


@pytest.fixture
def reviewer(create_user):
    return create_user("reviewer@example.test", Role.REVIEWER)


@pytest.fixture
def admin(create_user):
    return create_user("admin@example.test", Role.ADMIN)


@dataclass
class QueryCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def count_queries(app) -> Iterator[QueryCounter]:
    """Every SQL statement sent to the database while the test runs (indico's query counter)."""
    counter = QueryCounter()

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        counter.statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    yield counter
    event.remove(engine, "before_cursor_execute", before_cursor_execute)


@pytest.fixture
def engine_hooks() -> Iterator[dict]:
    """The round engine's content hooks and the district's bulk twins, restored afterwards."""
    saved = {kind: replace(c) for kind, c in CONTENT.items()}
    saved_bulk = dict(BULK_ANSWERED)
    yield CONTENT
    CONTENT.clear()
    CONTENT.update(saved)
    BULK_ANSWERED.clear()
    BULK_ANSWERED.update(saved_bulk)
