"""Workers as real processes (``flask outbox run``) and as threads, against the fake SendGrid.

They run on a database other processes can open: PostgreSQL when DATABASE_URL names one, else an
SQLite file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from consult.db import utcnow
from consult.extensions import db
from consult.notify.mailer import Email
from consult.notify.models import OutboxMessage
from consult.notify.models import OutboxStatus
from consult.notify.services import send_pending
from tests.notify.conftest import API_KEY
from tests.notify.conftest import queue_votes

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


def worker_env(db_url: str, sendgrid_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "NOTIFY_", "SENDGRID_"))}
    env.update(
        FLASK_APP="consult",
        DATABASE_URL=db_url,
        SECRET_KEY="test",
        MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY=API_KEY,
        SENDGRID_HOST=sendgrid_url,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(FLASK), "outbox", "run", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def statuses() -> Counter[OutboxStatus]:
    db.session.rollback()
    return Counter(db.session.scalars(select(OutboxMessage.status)).all())


def test_killing_a_worker_mid_batch_loses_nothing_and_repeats_only_the_message_in_flight(
    shared_app, shared_db_url, fake_sendgrid, tmp_path
):
    ids = queue_votes(12, now=utcnow())
    env = worker_env(shared_db_url, fake_sendgrid.url)
    fake_sendgrid.hold_at = 5  # the 5th message reaches SendGrid, and its answer never gets back
    worker = start_worker(env, tmp_path / "worker.log", "--batch", "3", "--poll", "0.05", "--lease", "1")
    try:
        fake_sendgrid.wait_for(5)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    fake_sendgrid.release.set()
    in_flight = fake_sendgrid.outbox_ids(status=None)[4]
    assert fake_sendgrid.outbox_ids(status=None) == ids[:5]
    assert statuses()[OutboxStatus.SENT] == 4

    time.sleep(1.1)  # the dead worker's lease runs out
    restart = subprocess.run(
        [str(FLASK), "outbox", "run", "--once", "--batch", "3", "--lease", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert restart.returncode == 0, restart.stderr.decode()

    received = Counter(fake_sendgrid.outbox_ids(status=None))
    assert set(received) == set(ids)  # none lost
    assert {i for i, n in received.items() if n > 1} == {in_flight}  # none twice but the one in flight
    assert received[in_flight] == 2
    assert statuses() == Counter({OutboxStatus.SENT: 12})
    assert db.session.get(OutboxMessage, in_flight).attempts == 2


def test_two_worker_processes_send_each_message_once(shared_app, shared_db_url, fake_sendgrid, tmp_path):
    ids = queue_votes(20, now=utcnow())
    env = worker_env(shared_db_url, fake_sendgrid.url)
    # the first request of each worker waits for the other's: both hold claims at the same time
    fake_sendgrid.barrier = threading.Barrier(2)
    fake_sendgrid.delay = 0.01
    workers = [
        start_worker(env, tmp_path / f"worker{n}.log", "--once", "--batch", "4", "--worker-id", f"w{n}")
        for n in (1, 2)
    ]
    for worker in workers:
        assert worker.wait(60) == 0, (tmp_path / "worker1.log").read_text()
    assert not fake_sendgrid.barrier.broken
    received = fake_sendgrid.outbox_ids()
    assert sorted(received) == ids  # each exactly once
    assert statuses() == Counter({OutboxStatus.SENT: 20})
    by_worker = Counter(db.session.scalars(select(OutboxMessage.claimed_by)).all())
    assert set(by_worker) == {"w1", "w2"}


def test_sigterm_finishes_the_message_in_hand_and_hands_back_the_rest(
    shared_app, shared_db_url, fake_sendgrid, tmp_path
):
    ids = queue_votes(10, now=utcnow())
    fake_sendgrid.delay = 0.05
    log = tmp_path / "worker.log"
    worker = start_worker(
        worker_env(shared_db_url, fake_sendgrid.url), log, "--batch", "10", "--poll", "0.05"
    )
    try:
        fake_sendgrid.wait_for(2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(10) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    received = fake_sendgrid.outbox_ids()
    assert 2 <= len(received) < 10
    counts = statuses()
    assert counts == Counter({OutboxStatus.SENT: len(received), OutboxStatus.PENDING: 10 - len(received)})
    assert sorted(received) == ids[: len(received)]
    assert "stopped" in log.read_text()


class SlowRecorder:
    def __init__(self) -> None:
        self.ids: list[int] = []
        self.lock = threading.Lock()

    def send(self, email: Email) -> None:
        time.sleep(0.002)
        with self.lock:
            self.ids.append(email.outbox_id)


def test_threads_with_their_own_sessions_send_each_message_once(shared_app):
    ids = queue_votes(40, now=utcnow())
    mailer = SlowRecorder()
    errors: list[BaseException] = []

    def drain(name: str) -> None:
        try:
            with shared_app.app_context():
                while send_pending(mailer, utcnow(), batch=3, worker_id=name).claimed:
                    pass
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=drain, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(mailer.ids) == ids
    assert statuses() == Counter({OutboxStatus.SENT: 40})
