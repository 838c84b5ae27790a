"""Round 2's pages: workers' schemes and comments, the resident's page, the public answers, documents;
both languages, scoping by street and compound, and no personal data on the public page."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func
from sqlalchemy import select

from consult.auth.models import Role
from consult.db import utcnow
from consult.extensions import db
from consult.notify.models import NoticeKind
from consult.notify.models import OutboxMessage
from consult.residents.models import Invitation
from consult.residents.services import acknowledge_privacy
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.schemes import services
from consult.schemes.models import CommentAnswer
from consult.schemes.models import SchemeComment
from consult.schemes.models import SchemeDocument
from consult.schemes.models import SchemePreference
from consult.schemes.rules import AnswerOutcome
from tests.schemes.factories import PDF
from tests.schemes.factories import close_round
from tests.schemes.factories import during
from tests.schemes.factories import open_round
from tests.schemes.factories import png_with_metadata
from tests.schemes.factories import publish_round

#: the notices this area queues (opening a round queues others)
ANSWERED = OutboxMessage.kind == NoticeKind.COMMENT_ANSWERED

LANGUAGES = [("en", "en"), ("zh-CN", "zh-CN")]
NAMES = ("张伟", "王芳", "李娜", "张*", "王*", "李*")
PLACES = ("101", "102", "201", "1栋", "Room", "单元", "13812341234", "zhang@example.test")


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def base(compound_id: int, round_id: int) -> str:
    return f"/compounds/{compound_id}/rounds/{round_id}"


def status(client, url: str) -> int:
    """The status of a GET, its (file) response closed."""
    response = client.get(url)
    response.close()
    return response.status_code


def invitation(cards, name: str) -> Invitation:
    return db.session.get(Invitation, cards[name].invitation.id)


@pytest.fixture
def reviewer(create_user):
    return create_user("reviewer@example.test", Role.REVIEWER)


@pytest.fixture
def stranger(create_user, other_street):
    """A worker of another street."""
    return create_user("stranger@example.test", Role.WORKER, other_street)


@pytest.fixture
def as_resident(app):
    def _enter(card):
        client = app.test_client()
        assert client.get(f"/r/{card.token}").status_code == 302
        return client

    return _enter


@pytest.fixture
def commented(round2, schemes, cards):
    """Round 2 open; 张伟 (has an address) and 李娜 (none) commented on scheme A's first item."""
    a, _b = schemes
    open_round(round2)
    item = a.first.items[0]
    comments = [
        services.add_comment(invitation(cards, "张伟"), item, "希望用更耐久的防水卷材", during(round2)),
        services.add_comment(invitation(cards, "李娜"), item, "请先修好楼道灯", during(round2)),
    ]
    db.session.commit()
    return comments


# --- workers


@pytest.mark.parametrize(("accept", "html_lang"), LANGUAGES)
def test_workers_pages_render_in_both_languages(
    client, auth, worker, compound, round2, schemes, accept, html_lang
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    auth.login(worker)
    a, _b = schemes
    pages = [
        (f"{base(compound.id, round2.id)}/schemes", "保留院落"),
        (f"{base(compound.id, round2.id)}/schemes/{a.id}/versions/1", "增加12个停车位"),
        (f"{base(compound.id, round2.id)}/comments", "新建口袋公园"),
    ]
    for path, content in pages:
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert f'<html lang="{html_lang}">' in html, path
        assert content in html, path
        if accept == "en":
            assert "Round 2: design schemes" in html, path


def test_a_worker_writes_a_scheme_with_items_and_documents(
    client, auth, worker, compound, round2, upload_folder
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login(worker)
    url = f"{base(compound.id, round2.id)}/schemes"
    response = client.post(url, data={"title": "方案甲", "note": "保留院落"})
    assert response.status_code == 302
    version_url = response.headers["Location"]
    assert version_url.endswith("/versions/1")
    assert client.post(url, data={"title": ""}).status_code == 422
    assert client.post(f"{version_url}/items", data={"new-title": "屋面防水重做"}).status_code == 302
    assert client.post(f"{version_url}/items", data={"new-title": " "}).status_code == 422

    picture = {"file": (BytesIO(png_with_metadata()), "现场.png")}
    assert (
        client.post(f"{version_url}/documents", data=picture, content_type="multipart/form-data").status_code
        == 302
    )
    fake = {"file": (BytesIO(b"MZ\x90\x00" + b"\x00" * 300), "图纸.pdf")}
    refused = client.post(f"{version_url}/documents", data=fake, content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "Only PDF, JPEG and PNG files are accepted." in refused.get_data(as_text=True)

    db.session.rollback()
    page = client.get(version_url).get_data(as_text=True)
    assert "屋面防水重做" in page
    assert "现场.png" in page
    documents = db.session.scalars(select(SchemeDocument)).all()
    assert len(documents) == 1
    assert [p.name for p in upload_folder.iterdir()] == [documents[0].stored_name]


def test_a_reviewer_reads_but_does_not_write(client, auth, reviewer, compound, round2, schemes):
    auth.login(reviewer)
    a, _b = schemes
    assert client.get(f"{base(compound.id, round2.id)}/schemes").status_code == 200
    assert client.post(f"{base(compound.id, round2.id)}/schemes", data={"title": "方案丙"}).status_code == 403
    item = a.first.items[0]
    assert client.post(f"{base(compound.id, round2.id)}/items/{item.id}/delete").status_code == 403
    db.session.rollback()
    assert len(services.schemes_of(round2)) == 2


def test_another_streets_worker_gets_404(client, auth, stranger, compound, round2, schemes, commented):
    auth.login(stranger)
    a, _b = schemes
    close_round(round2)
    root = base(compound.id, round2.id)
    for path in (f"{root}/schemes", f"{root}/schemes/{a.id}/versions/1", f"{root}/comments"):
        assert client.get(path).status_code == 404, path
    answer = {f"c{commented[0].id}-outcome": "adopted", f"c{commented[0].id}-reason": "好"}
    assert client.post(f"{root}/comments/{commented[0].id}/answer", data=answer).status_code == 404
    assert client.post(f"{root}/schemes", data={"title": "x"}).status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(func.count(CommentAnswer.id))) == 0


def test_a_round_of_another_compound_or_kind_is_404(client, auth, worker, compound, rounds, create_compound):
    auth.login(worker)
    other = create_compound("芳邻路2号小区")
    assert client.get(f"{base(other.id, rounds[1].id)}/schemes").status_code == 404
    assert client.get(f"{base(compound.id, rounds[0].id)}/schemes").status_code == 404  # the needs survey


def test_answering_queues_a_notice_only_for_a_commenter_with_an_address(
    client, auth, worker, compound, round2, commented
):
    close_round(round2)
    auth.login(worker)
    root = base(compound.id, round2.id)
    for comment, outcome in zip(commented, ("partly", "not_adopted"), strict=True):
        form = {
            f"c{comment.id}-outcome": outcome,
            f"c{comment.id}-reason": "理由见会议纪要",
            f"c{comment.id}-version": "0",
        }
        response = client.post(f"{root}/comments/{comment.id}/answer?unanswered=1", data=form)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"unanswered=1#comment-{comment.id}")
    db.session.rollback()
    messages = db.session.scalars(select(OutboxMessage).where(ANSWERED)).all()
    assert [(m.kind.value, m.to_address) for m in messages] == [("comment_answered", "zhang@example.test")]
    answers = db.session.scalars(select(CommentAnswer).order_by(CommentAnswer.comment_id)).all()
    assert [a.outcome for a in answers] == [AnswerOutcome.PARTLY, AnswerOutcome.NOT_ADOPTED]
    # without a reason the answer is refused and nothing more is queued
    for reason in ("", "   "):
        bad = {f"c{commented[0].id}-outcome": "adopted", f"c{commented[0].id}-reason": reason}
        assert client.post(f"{root}/comments/{commented[0].id}/answer", data=bad).status_code == 422
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(ANSWERED)) == 1


def test_comments_can_be_filtered_by_item_and_by_answer(
    client, auth, worker, compound, round2, schemes, cards
):
    a, b = schemes
    open_round(round2)
    first = services.add_comment(
        invitation(cards, "张伟"), a.first.items[0], "关于防水的意见", during(round2)
    )
    services.add_comment(invitation(cards, "张伟"), b.first.items[0], "关于公园的意见", during(round2))
    db.session.commit()
    close_round(round2)
    services.answer_comment(first, AnswerOutcome.NOT_ADOPTED, "理由", worker, round2.closes_at)
    db.session.commit()
    auth.login(worker)
    root = base(compound.id, round2.id)
    every = client.get(f"{root}/comments").get_data(as_text=True)
    assert "关于防水的意见" in every
    assert "关于公园的意见" in every
    open_ones = client.get(f"{root}/comments?unanswered=1").get_data(as_text=True)
    assert "关于防水的意见" not in open_ones
    assert "关于公园的意见" in open_ones
    of_item = client.get(f"{root}/comments?item={a.first.items[0].id}").get_data(as_text=True)
    assert "关于防水的意见" in of_item
    assert "关于公园的意见" not in of_item
    assert "a comment has no answer" in client.get(
        f"{root}/schemes", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)


# --- residents


@pytest.mark.parametrize(("accept", "html_lang"), LANGUAGES)
def test_the_resident_page_in_both_languages(as_resident, round2, schemes, cards, accept, html_lang):
    open_round(round2)
    client = as_resident(cards["王芳"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    response = client.get(f"/me/schemes/{round2.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{html_lang}">' in html
    assert "保留院落" in html
    assert "新建口袋公园" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    if accept == "en":
        assert "Which scheme do you prefer?" in html
        assert "Send the comment" in html


def test_a_resident_comments_and_sees_the_answer(as_resident, worker, round2, schemes, cards):
    a, _b = schemes
    open_round(round2)
    client = as_resident(cards["王芳"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    item = a.first.items[1]
    url = f"/me/schemes/{round2.id}/items/{item.id}/comments"
    response = client.post(url, data={f"item{item.id}-body": "停车位请留给老人"})
    assert response.status_code == 302
    assert client.post(url, data={f"item{item.id}-body": ""}).status_code == 422
    blank = client.post(url, data={f"item{item.id}-body": "   "})
    assert blank.status_code == 422
    assert "Write your comment first." in blank.get_data(as_text=True)
    db.session.rollback()
    comment = db.session.scalars(select(SchemeComment)).one()
    assert comment.occupant_id == cards["王芳"].invitation.occupant_id
    close_round(round2)
    services.answer_comment(comment, AnswerOutcome.ADOPTED, "增加两个无障碍车位", worker, round2.closes_at)
    db.session.commit()
    page = client.get(f"/me/schemes/{round2.id}").get_data(as_text=True)
    assert "停车位请留给老人" in page
    assert "增加两个无障碍车位" in page
    assert "Adopted" in page
    assert "Send the comment" not in page  # closed


def test_a_changed_preference_through_the_page(as_resident, round2, schemes, cards):
    a, b = schemes
    open_round(round2)
    client = as_resident(cards["李娜"])
    assert client.post(f"/me/schemes/{round2.id}/preference", data={"scheme": str(a.id)}).status_code == 302
    assert client.post(f"/me/schemes/{round2.id}/preference", data={"scheme": str(b.id)}).status_code == 302
    assert client.post(f"/me/schemes/{round2.id}/preference", data={"scheme": "999999"}).status_code == 422
    db.session.rollback()
    assert [p.scheme_id for p in db.session.scalars(select(SchemePreference))] == [b.id]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Your household's preference: scheme B." in client.get(f"/me/schemes/{round2.id}").get_data(
        as_text=True
    )


def test_a_resident_of_another_compound_gets_404(as_resident, create_compound, round2, schemes, cards):
    a, _b = schemes
    open_round(round2)
    other = create_compound("芳邻路2号小区")
    apply_rows(
        other, parse_roster("楼栋,单元,房号,建筑面积,业主姓名,身份\n9,1,901,70,赵敏,业主\n".encode()), "test"
    )
    db.session.commit()
    card = issue_cards(card_people(other), other, "test", utcnow())[0]
    acknowledge_privacy(card.invitation, utcnow())
    db.session.commit()
    client = as_resident(card)
    item = a.first.items[0]
    assert client.get(f"/me/schemes/{round2.id}").status_code == 404
    assert (
        client.post(
            f"/me/schemes/{round2.id}/items/{item.id}/comments", data={f"item{item.id}-body": "x"}
        ).status_code
        == 404
    )
    assert client.post(f"/me/schemes/{round2.id}/preference", data={"scheme": str(a.id)}).status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(func.count(SchemeComment.id))) == 0


def test_a_draft_round_is_not_shown_to_residents(as_resident, round2, schemes, cards):
    client = as_resident(cards["张伟"])
    assert client.get(f"/me/schemes/{round2.id}").status_code == 404


def test_a_signed_out_visitor_is_sent_to_the_code_page(client, round2, schemes):
    open_round(round2)
    response = client.get(f"/me/schemes/{round2.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/code")


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_a_comment_without_its_csrf_token_is_refused(as_resident, round2, schemes, cards):
    a, _b = schemes
    open_round(round2)
    client = as_resident(cards["张伟"])
    item = a.first.items[0]
    response = client.post(
        f"/me/schemes/{round2.id}/items/{item.id}/comments", data={f"item{item.id}-body": "意见"}
    )
    assert response.status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count(SchemeComment.id))) == 0


def test_links_and_answers_for_the_resident_home(app, round2, schemes, cards, worker):
    a, _b = schemes
    zhang = invitation(cards, "张伟")
    now = utcnow()
    assert services.resident_links(zhang, now) == []  # a draft is not shown
    open_round(round2)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        [(label, url, done, still_open)] = services.resident_links(zhang, now)
        assert (label, url, done, still_open) == (
            "Round 2: comment on the design schemes",
            f"/me/schemes/{round2.id}",
            False,
            True,
        )
        comment = services.add_comment(zhang, a.first.items[0], "意见", now)
        db.session.commit()
        assert services.resident_links(zhang, now)[0][2] is True
        assert services.resident_links(invitation(cards, "李娜"), now)[0][2] is False
        assert services.my_answers(zhang) == []
        close_round(round2)
        services.answer_comment(comment, AnswerOutcome.PARTLY, "部分采纳", worker, round2.closes_at)
        services.revise(a, "user:1", round2.closes_at)
        db.session.commit()
        [mine] = services.my_answers(zhang)
        assert (mine.comment, mine.outcome_label, mine.reason, mine.scheme_label) == (
            "意见",
            "Partly adopted",
            "部分采纳",
            "A",
        )
        assert mine.url == f"/me/schemes/{round2.id}#comment-{comment.id}"
        assert services.my_answers(invitation(cards, "王芳")) == []  # the tenant of his flat: not hers
        assert services.resident_links(zhang, now)[0][2:] == (True, False)  # closed: no more changes
        publish_round(round2)
        assert services.resident_links(zhang, now)[0] == (
            "Round 2: the revised scheme and the answers to comments",
            f"/me/schemes/{round2.id}",
            True,
            False,
        )
        assert services.resident_links(invitation(cards, "李娜"), now)[0][2:] == (False, False)


def home_sections(html: str) -> dict[str, str]:
    """The resident home page's lists, by their headings."""
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    parts = re.split(r"<h2[^>]*>([^<]+)</h2>", main)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_a_round_the_resident_took_no_part_in_is_there_to_read_not_to_answer(
    round2, schemes, cards, as_resident, worker
):
    a, _b = schemes
    open_round(round2)
    comment = services.add_comment(invitation(cards, "张伟"), a.first.items[0], "意见", during(round2))
    db.session.commit()
    clients = {}
    for name in ("张伟", "李娜"):
        clients[name] = as_resident(cards[name])
        clients[name].environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def home(name: str) -> dict[str, str]:
        return home_sections(clients[name].get("/me").get_data(as_text=True))

    label = "Round 2: comment on the design schemes"
    assert label in home("李娜")["Open for you now"]
    assert label in home("张伟")["What you have answered"]
    close_round(round2)
    closed = "Round 2: the design schemes (closed for comments)"
    published = "Round 2: the revised scheme and the answers to comments"
    for label in (closed, published):
        if label == published:
            services.answer_comment(comment, AnswerOutcome.ADOPTED, "采纳", worker, round2.closes_at)
            services.revise(a, "user:1", round2.closes_at)
            db.session.commit()
            publish_round(round2)
        took_none = home("李娜")
        assert label not in took_none["Open for you now"]
        assert "Nothing is open right now" in took_none["Open for you now"]
        assert "What you have answered" not in took_none
        assert label in took_none["Published for the compound"]
        took_part = home("张伟")
        assert label in took_part["What you have answered"]
        assert "Nothing is open right now" in took_part["Open for you now"]  # nothing left to change


# --- the public page


def test_the_public_answers_wait_for_publishing_and_show_no_name_or_room(
    client, compound, round2, schemes, commented, cards, worker
):
    a, b = schemes
    services.state_preference(invitation(cards, "张伟"), b, during(round2))  # two flats
    services.state_preference(invitation(cards, "李娜"), a, during(round2))
    db.session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = f"/p/{compound.id}/answers/{round2.id}"
    early = client.get(url)
    assert early.status_code == 200
    assert "希望用更耐久的防水卷材" not in early.get_data(as_text=True)
    close_round(round2)
    services.answer_comment(commented[0], AnswerOutcome.ADOPTED, "改用SBS卷材", worker, round2.closes_at)
    services.answer_comment(commented[1], AnswerOutcome.NOT_ADOPTED, "不在本次范围", worker, round2.closes_at)
    services.revise(a, "user:1", round2.closes_at)
    db.session.commit()
    assert "改用SBS卷材" not in client.get(url).get_data(as_text=True)  # closed, not yet published
    publish_round(round2)
    response = client.get(url)
    html = response.get_data(as_text=True)
    text = visible_text(html)
    assert response.status_code == 200
    for words in ("希望用更耐久的防水卷材", "改用SBS卷材", "请先修好楼道灯", "不在本次范围", "Not adopted"):
        assert words in text
    assert re.search(r"Scheme A: 保留院落\s*</td>\s*<td class=\"num\">1<", html)
    assert re.search(r"Scheme B: 拆除自行车棚\s*</td>\s*<td class=\"num\">2<", html)
    for secret in NAMES + PLACES:
        assert secret not in text, secret
    assert "By an owner" not in text
    other_kind = client.get(f"/p/{compound.id}/answers/{round2.id - 1}")
    assert other_kind.status_code == 404


# --- documents


def test_documents_are_served_to_those_who_may_see_them(
    client, auth, worker, stranger, app, as_resident, compound, round2, schemes, cards
):
    a, _b = schemes
    document = services.add_document(a.first, png_with_metadata(), "现场照片.png", "user:1", during(round2))
    pdf = services.add_document(a.first, PDF, "总平面图.pdf", "user:1", during(round2))
    db.session.commit()
    url = f"/schemes/documents/{document.id}"
    resident = as_resident(cards["王芳"])
    assert status(client, url) == 404  # a draft: staff only
    assert status(resident, url) == 404
    auth.login(stranger)
    assert status(client, url) == 404
    auth.logout()
    auth.login(worker)
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert response.headers["Content-Disposition"].startswith("inline;")
        assert "filename*=UTF-8''%E7%8E%B0" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "private, no-store"
        assert b"SpyCam" not in response.data
    with client.get(f"/schemes/documents/{pdf.id}?download=1") as download:
        assert download.mimetype == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.data == PDF

    open_round(round2)
    assert status(resident, url) == 200  # residents of the compound, once the round opens
    anonymous = app.test_client()
    assert status(anonymous, url) == 404
    close_round(round2)
    publish_round(round2)
    with anonymous.get(url) as public:
        assert public.status_code == 200
        assert public.headers["Cache-Control"] == "public, max-age=3600"
    assert status(anonymous, "/schemes/documents/999999") == 404


def test_the_public_answers_page_of_an_unknown_round_is_404(client, compound):
    assert client.get(f"/p/{compound.id}/answers/999999").status_code == 404
    assert client.get("/p/999999/answers/1").status_code == 404


def test_the_time_a_revision_is_published_freezes_the_documents(
    client, auth, worker, compound, round2, schemes, commented
):
    a, _b = schemes
    close_round(round2)
    for comment in commented:
        services.answer_comment(comment, AnswerOutcome.NOT_ADOPTED, "理由", worker, round2.closes_at)
    revised = services.revise(a, "user:1", round2.closes_at + timedelta(hours=1))
    db.session.commit()
    auth.login(worker)
    url = f"{base(compound.id, round2.id)}/schemes/{a.id}/versions/{revised.number}/documents"
    upload = {"file": (BytesIO(PDF), "修改稿.pdf")}
    assert client.post(url, data=upload, content_type="multipart/form-data").status_code == 302
    publish_round(round2)
    late = {"file": (BytesIO(PDF), "太晚.pdf")}
    client.post(url, data=late, content_type="multipart/form-data")
    db.session.rollback()
    assert [d.filename for d in revised.documents] == ["修改稿.pdf"]


def test_the_revised_plan_page_shows_the_closed_panels_conclusion(
    as_resident, round2, schemes, cards, create_user, reviewer
):
    from consult.experts import services as experts

    a, _b = schemes
    expert = create_user("expert@example.test", Role.EXPERT, None, name="钱专家")
    panel = experts.form_panel(round2, expert, [expert], reviewer)
    experts.write_opinion(panel, a, expert, experts.Verdict.RECOMMEND_WITH_CHANGES, "停车位改为透水铺装")
    open_round(round2)
    close_round(round2)
    db.session.commit()
    client = as_resident(cards["张伟"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "停车位改为透水铺装" not in client.get(f"/me/schemes/{round2.id}").get_data(as_text=True)
    experts.close(panel, reviewer)  # the answers wait for the panel to close
    publish_round(round2)
    db.session.commit()
    html = client.get(f"/me/schemes/{round2.id}").get_data(as_text=True)
    assert "The expert panel's opinion" in html
    assert "Recommend with changes" in html
    assert "停车位改为透水铺装" in html
    assert "钱专家" not in html


def test_a_scheme_is_removed_only_with_its_box_ticked(client, auth, worker, compound, round2, schemes):
    a, b = schemes
    db.session.commit()
    auth.login(worker)
    url = f"{base(compound.id, round2.id)}/schemes/{a.id}/delete"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    refused = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "Tick the box beside" in refused
    assert len(services.schemes_of(round2)) == 2
    assert client.post(url, data={f"remove{a.id}-confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert [s.id for s in services.schemes_of(round2)] == [b.id]
