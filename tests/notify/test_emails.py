"""Rendering: one template per notice, in the recipient's language, links from BASE_URL only."""

from __future__ import annotations

import base64
import json
from datetime import UTC
from datetime import datetime

import pytest
from flask_babel import force_locale
from flask_babel import gettext
from itsdangerous import URLSafeTimedSerializer

from consult.notify.emails import UNSUBSCRIBE_SALT
from consult.notify.emails import read_unsubscribe_token
from consult.notify.emails import render_email
from consult.notify.emails import site_path
from consult.notify.emails import unsubscribe_token
from consult.notify.emails import unsubscribe_url
from consult.notify.rules import CONTEXT_KEYS

#: the residents' time zone (BABEL_DEFAULT_TIMEZONE): times in messages are local times
pytestmark = pytest.mark.options(BABEL_DEFAULT_TIMEZONE="Asia/Shanghai")

WHEN = datetime(2025, 3, 10, 4, 30, tzinfo=UTC)  # 12:30 in Chengdu

CONTEXTS = {
    "round_opened": {"compound": "浣花小区", "round_number": 1, "closes_at": WHEN},
    "round_closing": {"compound": "浣花小区", "round_number": 2, "closes_at": WHEN},
    "comment_answered": {"compound": "浣花小区", "outcome": "partly"},
    "vote_received": {"compound": "浣花小区", "round_number": 3, "receipt": "R-7F3K", "received_at": WHEN},
    "panel_invitation": {"compound": "浣花小区", "panel": "第一评审组", "respond_by": WHEN},
    "panel_reopened": {"compound": "浣花小区", "panel": "第一评审组", "reason": "方案已修改，请重新评分"},
    "record_returned": {"compound": "浣花小区", "version": 2, "reasons": "缺少电梯表决结果"},
    "record_approved": {"compound": "浣花小区", "version": 3},
    "password_reset": {"minutes": 60},
}


def render(kind, locale="en", **extra):
    return render_email(kind, locale, {**CONTEXTS[kind], "url": "https://tongxin.example/x", **extra})


def test_every_kind_has_a_context_here():
    assert set(CONTEXTS) == set(CONTEXT_KEYS)


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
@pytest.mark.parametrize(
    ("locale", "lang", "footer"), [("en", "en", "Tongxin:"), ("zh_CN", "zh-CN", "同心：")]
)
def test_every_notice_renders_subject_text_and_html(app, kind, locale, lang, footer):
    email = render(kind, locale)
    assert "\n" not in email.subject
    if "compound" in CONTEXTS[kind]:  # every notice of a compound names it
        assert "浣花小区" in email.subject
        assert "浣花小区" in email.text
    assert "https://tongxin.example/x" in email.text
    assert 'href="https://tongxin.example/x"' in email.html
    assert footer in email.text
    assert email.html.startswith("<!doctype html>")
    assert f'<html lang="{lang}">' in email.html
    assert footer in email.html
    assert "<script" not in email.html
    assert "style=" not in email.html


def test_dates_follow_the_recipients_language(app):
    assert "March 10, 2025 12:30" in render("round_opened", "en").text
    assert "2025年3月10日 12:30" in render("round_opened", "zh_CN").text


def test_round_opened_snapshot(app):
    email = render("round_opened", "en", unsubscribe_url="https://tongxin.example/u/t")
    assert email.subject == "Round 1 is open: 浣花小区"
    assert email.text == (
        "Round 1 of the consultation on the renovation of 浣花小区 is open until"
        " March 10, 2025 12:30.\n"
        "\n"
        "Take part here: https://tongxin.example/x\n"
        "\n"
        "You receive this notice because you gave this e-mail address for notices about the renovation"
        " of your compound.\n"
        "To stop notices like this one, open this link: https://tongxin.example/u/t\n"
        "\n"
        "--\n"
        "Tongxin: residents and organisers agree each compound's renovation plan together.\n"
    )
    assert '<a href="https://tongxin.example/x">Take part</a>' in email.html
    assert '<a href="https://tongxin.example/u/t">Stop notices like this one</a>' in email.html


def test_vote_receipt_snapshot(app):
    email = render("vote_received", "en")
    assert email.subject == "Your vote was received: 浣花小区"
    assert "Your vote in round 3 for 浣花小区 was received on March 10, 2025 12:30\u202fPM." in email.text
    assert "Receipt code: R-7F3K" in email.text
    assert "<p>Receipt code: R-7F3K</p>" in email.html
    assert "stop notices" not in email.text.lower()  # essential: no unsubscribe link


def test_comment_outcomes_have_their_own_sentences(app):
    texts = {o: render("comment_answered", outcome=o).text for o in ("adopted", "partly", "not_adopted")}
    assert "The organisers adopted your comment." in texts["adopted"]
    assert "The organisers adopted your comment in part." in texts["partly"]
    assert "The organisers did not adopt your comment." in texts["not_adopted"]


def test_values_are_escaped_in_html_and_kept_as_they_are_in_text(app):
    email = render("record_returned", reasons='<script>alert("x")</script> & 1 < 2')
    assert '<script>alert("x")</script> & 1 < 2' in email.text
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    assert "&amp; 1 &lt; 2" in email.html


def test_unsubscribe_token_round_trip_and_tampering(app):
    token = unsubscribe_token("a@example.test", "zh_CN")
    assert read_unsubscribe_token(token) == ("a@example.test", "zh_CN")
    # whoever sees the link cannot read the address: the signed payload holds it encrypted
    payload = URLSafeTimedSerializer("any").load_payload(token.rsplit(".", 2)[0].encode())
    assert payload[1] == "zh_CN"
    assert "a@example.test" not in json.dumps(payload)
    assert payload[0].startswith("v1:")
    assert unsubscribe_token("a@example.test", "zh_CN") != token  # a new nonce each time
    # a link of the kind sent before addresses were encrypted still works until it expires
    plain = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps(["b@x.test", "en"])
    assert read_unsubscribe_token(plain) == ("b@x.test", "en")
    app.config["DATA_KEY"] = base64.b64encode(bytes(32)).decode()  # the key changed: the link is dead
    assert read_unsubscribe_token(token) is None
    assert read_unsubscribe_token(token[:-2] + "xx") is None
    assert read_unsubscribe_token("nonsense") is None
    app.config["SECRET_KEY"] = "another"
    assert read_unsubscribe_token(token) is None


@pytest.mark.options(BASE_URL="https://tongxin.example.gov.cn/")
def test_links_use_base_url_never_the_requests_host(app):
    with app.test_request_context("/", base_url="http://evil.example"):
        url = unsubscribe_url("a@example.test", "en")
    assert url.startswith("https://tongxin.example.gov.cn/notify/unsubscribe/")
    assert site_path("notify.outbox", status="failed") == "/notify/outbox?status=failed"


def test_rendering_leaves_the_callers_language_alone(app):
    with force_locale("en"):
        assert "同心：" in render("round_opened", "zh_CN").text
        assert gettext("Tongxin") == "Tongxin"
    with force_locale("zh_CN"):
        assert "Tongxin:" in render("round_opened", "en").text
        assert gettext("Tongxin") == "同心"


def test_a_round_closing_at_midnight_shows_the_last_day_one_may_answer(app):
    from flask_babel import force_locale

    from consult.ui import closes

    midnight = datetime(2026, 12, 11, 16, 0, tzinfo=UTC)  # 00:00 on 12 December in Chengdu
    with app.test_request_context(), force_locale("zh_CN"):
        assert closes(midnight) == "2026年12月11日 23:59"
    with app.test_request_context(), force_locale("en"):
        assert closes(midnight) == "December 11, 2026 23:59"
        assert closes(WHEN) == "March 10, 2025 12:30"  # any other time as it is
