"""SQLite writers queue for the database's writer lock file: the second waits until the first transaction
ends, then goes at once; a transaction that has begun writing, or an in-memory database, does not queue."""

from __future__ import annotations

import threading
import time

from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.orm import Session

from consult.db import _WRITER_LOCK
from consult.db import queue_for_writing


def test_a_second_writer_waits_for_the_first_to_end(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/queue.sqlite")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[str] = []

    def second_writer() -> None:
        with Session(engine) as second:
            queue_for_writing(second)
            order.append("second writes")
            second.execute(text("INSERT INTO t VALUES (2)"))
            second.commit()

    with Session(engine) as first:
        queue_for_writing(first)
        first.execute(text("INSERT INTO t VALUES (1)"))
        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.3)  # time enough for the second to write, if it did not wait
        order.append("first ends")
        first.commit()
        assert _WRITER_LOCK not in first.info
    thread.join(timeout=10)
    assert order == ["first ends", "second writes"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM t ORDER BY rowid")).scalars().all() == [1, 2]
    engine.dispose()


def test_a_rolled_back_writer_lets_the_next_in(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/queue.sqlite")
    with Session(engine) as first:
        queue_for_writing(first)
        first.rollback()
    with Session(engine) as second:
        queue_for_writing(second)  # would wait for ever if the first still held the lock
        assert _WRITER_LOCK in second.info
    engine.dispose()


def test_no_queue_once_writing_or_in_memory(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/queue.sqlite")
    with Session(engine) as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
        queue_for_writing(session)
        assert _WRITER_LOCK not in session.info
    memory = create_engine("sqlite://")
    with Session(memory) as session:
        queue_for_writing(session)
        assert _WRITER_LOCK not in session.info
    engine.dispose()
