"""A local stand-in for SendGrid's /v3/mail/send, and an outbox that other processes can reach."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask

from consult import create_app
from consult.extensions import db
from consult.notify.mailer import EXTENSION_KEY
from consult.notify.mailer import get_mailer
from consult.notify.services import enqueue
from tests.conftest import TEST_DATABASE_URL
from tests.conftest import app_config
from tests.conftest import empty_database

API_KEY = "SG.test-key"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class FakeSendGrid:
    """Records each request's JSON and answers 202, or the scripted answers queued with ``script``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: deque[tuple[int, dict[str, str]]] = deque()
        self.hold_at: int | None = None  # the request of this number waits until ``release`` is set
        self.release = threading.Event()
        self.barrier: threading.Barrier | None = None  # the first requests wait for each other
        self.delay = 0.0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def script(self, *answers: int | tuple[int, dict[str, str]]) -> None:
        """The statuses (and headers) of the next requests; 202 after them."""
        for answer in answers:
            self.answers.append(answer if isinstance(answer, tuple) else (answer, {}))

    def record(self, request: dict[str, Any]) -> tuple[int, int, dict[str, str]]:
        with self._lock:
            status, headers = self.answers.popleft() if self.answers else (202, {})
            request["status"] = status
            self.requests.append(request)
            self._arrived.notify_all()
            return len(self.requests), status, headers

    def wait_for(self, count: int, timeout: float = 30) -> None:
        with self._lock:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} requests arrived, expected {count}")

    def outbox_ids(self, status: int | None = 202) -> list[int]:
        """The outbox ids of the requests answered with ``status`` (all when None), in order."""
        with self._lock:
            return [
                int(r["json"]["custom_args"]["outbox_id"])
                for r in self.requests
                if status is None or r["status"] == status
            ]

    def __enter__(self) -> FakeSendGrid:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        if self.barrier is not None:
            self.barrier.abort()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        fake: FakeSendGrid = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/v3/mail/send":
            self.send_error(404)
            return
        number, status, headers = fake.record(
            {"json": json.loads(body), "headers": dict(self.headers.items()), "path": self.path}
        )
        if fake.barrier is not None and number <= fake.barrier.parties:
            fake.barrier.wait(30)
        if fake.hold_at == number:
            fake.release.wait(30)
        if fake.delay:
            time.sleep(fake.delay)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        payload = b"" if status == 202 else json.dumps({"errors": [{"message": f"status {status}"}]}).encode()
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_sendgrid() -> Iterator[FakeSendGrid]:
    with FakeSendGrid() as fake:
        yield fake


def use_sendgrid(app: Flask, fake: FakeSendGrid) -> Any:
    """Point the app's mailer at the fake server through the real SendGrid client."""
    app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_KEY=API_KEY, SENDGRID_HOST=fake.url)
    app.extensions.pop(EXTENSION_KEY, None)
    return get_mailer(app)


@pytest.fixture
def sendgrid(app: Flask, fake_sendgrid: FakeSendGrid) -> Any:
    """The app's SendGrid mailer, talking to the fake server."""
    return use_sendgrid(app, fake_sendgrid)


@pytest.fixture
def memory_mailer(app: Flask) -> Any:
    return get_mailer(app)


def vote_context(n: int = 1, **extra: Any) -> dict[str, Any]:
    return {"compound": "浣花小区", "round_number": 3, "receipt": f"R-{n:04d}", "received_at": T0, **extra}


def round_context(**extra: Any) -> dict[str, Any]:
    return {"compound": "浣花小区", "round_number": 1, "closes_at": T0, "path": "/rounds/1", **extra}


def queue_votes(count: int, now: datetime = T0) -> list[int]:
    """``count`` essential notices, committed; their ids."""
    ids = [
        enqueue("vote_received", f"owner{n}@example.test", "zh_CN", vote_context(n), now=now).id
        for n in range(count)
    ]
    db.session.commit()
    return ids


@pytest.fixture
def shared_db_url(tmp_path) -> str:
    """A database other processes can open: the PostgreSQL one under test, or an SQLite file."""
    if TEST_DATABASE_URL.startswith("sqlite://") and TEST_DATABASE_URL in ("sqlite://", "sqlite:///:memory:"):
        return f"sqlite:///{tmp_path}/outbox.sqlite"
    return TEST_DATABASE_URL


@pytest.fixture
def shared_app(shared_db_url: str) -> Iterator[Flask]:
    """An app (with its own app context) on ``shared_db_url``, emptied before and after."""
    app = create_app(app_config(SQLALCHEMY_DATABASE_URI=shared_db_url))
    with app.app_context():
        db.create_all()
        empty_database()
        yield app
        empty_database()
        db.session.remove()
        db.engine.dispose()
