"""Round 2 against the database: comments only while open, an answer for each, the blocker, revisions,
preferences, the engine's hooks, notices, and the checks on uploaded documents."""

from __future__ import annotations

import io
from datetime import timedelta
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.auth.models import Role
from consult.extensions import db
from consult.notify.models import NoticeKind
from consult.notify.models import OutboxMessage
from consult.residents.models import Invitation
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.rules import Action
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.services import apply
from consult.rounds.services import participation
from consult.rounds.services import repeat
from consult.schemes import services
from consult.schemes.models import CommentAnswer
from consult.schemes.models import SchemeComment
from consult.schemes.models import SchemeDocument
from consult.schemes.models import SchemePreference
from consult.schemes.rules import AnswerOutcome
from consult.schemes.rules import AuthorRole
from consult.schemes.services import SchemeRefused
from consult.schemes.uploads import DocumentKind
from consult.schemes.uploads import UploadRejected
from consult.schemes.uploads import display_name
from tests.schemes.conftest import ROSTER
from tests.schemes.factories import PDF
from tests.schemes.factories import close_round
from tests.schemes.factories import during
from tests.schemes.factories import english
from tests.schemes.factories import jpeg_with_exif
from tests.schemes.factories import open_round
from tests.schemes.factories import plain_png
from tests.schemes.factories import png_header_only
from tests.schemes.factories import png_with_metadata
from tests.schemes.factories import publish_round

#: the notices this area queues (opening a round queues others)
ANSWERED = OutboxMessage.kind == NoticeKind.COMMENT_ANSWERED


def invitation(cards, name: str) -> Invitation:
    return db.session.get(Invitation, cards[name].invitation.id)


@pytest.fixture
def answerer(create_user, street):
    return create_user("answerer@example.test", Role.WORKER, street)


@pytest.fixture
def commented(round2, schemes, cards):
    """Round 2 open, three comments (张伟 on two items of A, 李娜 on B), then closed."""
    a, b = schemes
    open_round(round2)
    at = during(round2)
    zhang, li = invitation(cards, "张伟"), invitation(cards, "李娜")
    comments = [
        services.add_comment(zhang, a.first.items[0], "希望用更耐久的防水卷材", at),
        services.add_comment(zhang, a.first.items[1], "停车位太少", at),
        services.add_comment(li, b.first.items[0], "公园里请加座椅", at),
    ]
    db.session.commit()
    close_round(round2)
    return comments


# --- comments


def test_comments_only_while_the_round_is_open(round2, schemes, cards):
    a, _b = schemes
    zhang = invitation(cards, "张伟")
    item = a.first.items[0]
    with pytest.raises(SchemeRefused):
        services.add_comment(zhang, item, "太早了", during(round2))  # still a draft
    open_round(round2)
    comment = services.add_comment(zhang, item, "  希望用更耐久的防水卷材 ", during(round2))
    db.session.commit()
    assert comment.body == "希望用更耐久的防水卷材"
    assert comment.owner_id == zhang.owner_id
    assert comment.author_role is AuthorRole.OWNER
    with pytest.raises(SchemeRefused):
        services.add_comment(zhang, item, "截止以后", round2.closes_at + timedelta(minutes=1))
    close_round(round2)
    with pytest.raises(SchemeRefused):
        services.add_comment(zhang, item, "关闭以后", during(round2))
    assert db.session.scalar(select(func.count(SchemeComment.id))) == 1


def test_a_comment_needs_the_privacy_notice_read_and_some_words(round2, schemes, cards):
    a, _b = schemes
    open_round(round2)
    zhang = invitation(cards, "张伟")
    with pytest.raises(SchemeRefused):
        services.add_comment(zhang, a.first.items[0], "   ", during(round2))
    from consult.residents.models import PrivacyAcknowledgement

    db.session.execute(db.delete(PrivacyAcknowledgement))
    with pytest.raises(SchemeRefused):
        services.add_comment(zhang, a.first.items[0], "意见", during(round2))


def test_a_resident_of_another_compound_cannot_comment(round2, schemes, cards, create_compound):
    a, _b = schemes
    open_round(round2)
    other = create_compound("芳邻路2号小区")
    outsider = invitation(cards, "李娜")
    outsider.compound_id = other.id
    with pytest.raises(services.NotFound):
        services.add_comment(outsider, a.first.items[0], "意见", during(round2))


def test_a_tenant_comments_for_their_dwelling(round2, schemes, cards):
    a, _b = schemes
    open_round(round2)
    wang = invitation(cards, "王芳")
    comment = services.add_comment(wang, a.first.items[0], "租户也关心", during(round2))
    assert comment.author_role is AuthorRole.OCCUPANT
    assert comment.occupant_id == wang.occupant_id
    assert comment.owner_id is None


# --- the engine's hooks


def test_answered_dwellings_count_comments_and_preferences(round2, schemes, cards):
    a, b = schemes
    open_round(round2)
    assert services.answered_dwellings(round2) == set()
    zhang, wang, li = (invitation(cards, n) for n in ("张伟", "王芳", "李娜"))
    zhang_flats = {d.id for d in services.person_of(zhang).dwellings}
    wang_flat = {d.id for d in services.person_of(wang).dwellings}
    li_flat = {d.id for d in services.person_of(li).dwellings}
    services.add_comment(wang, a.first.items[0], "租户的意见", during(round2))
    assert services.answered_dwellings(round2) == wang_flat
    services.add_comment(zhang, a.first.items[0], "业主的意见", during(round2))
    assert services.answered_dwellings(round2) == zhang_flats  # both of his flats (102 is 王芳's too)
    services.state_preference(li, b, during(round2))
    assert services.answered_dwellings(round2) == zhang_flats | li_flat
    db.session.commit()
    part = participation(round2)
    assert (part.answered, part.eligible) == (3, 3)


def test_everyone_answered_lets_the_round_close_early(round2, schemes, cards):
    a, _b = schemes
    open_round(round2)
    with pytest.raises(TransitionRefused):
        apply(round2, Action.CLOSE, "user:1", during(round2))
    for name in ("张伟", "李娜"):
        services.add_comment(invitation(cards, name), a.first.items[0], "同意", during(round2))
    apply(round2, Action.CLOSE, "user:1", during(round2))
    assert round2.state is RoundState.CLOSED


# --- answers and the blocker


def test_every_comment_must_be_answered_before_publishing(round2, commented, answerer):
    with pytest.raises(TransitionRefused) as refused:
        apply(round2, Action.PUBLISH, "user:1", round2.closes_at + timedelta(days=1))
    assert "3 without one" in english(refused.value.reason)
    assert "a comment has no answer" in english(services.publish_blocker(round2))
    now = round2.closes_at + timedelta(hours=1)
    services.answer_comment(commented[0], AnswerOutcome.NOT_ADOPTED, "材料已是最高等级", answerer, now)
    services.answer_comment(commented[1], "not_adopted", "场地不足", answerer, now)
    assert "1 without one" in english(services.publish_blocker(round2))
    services.answer_comment(commented[2], AnswerOutcome.NOT_ADOPTED, "预算不足", answerer, now)
    assert services.publish_blocker(round2) is None
    db.session.commit()
    publish_round(round2)
    assert round2.state is RoundState.NOTICE
    assert db.session.scalar(select(func.count(CommentAnswer.id))) == 3


def test_answers_only_in_the_down_phase_and_with_a_reason(round2, schemes, cards, answerer):
    a, _b = schemes
    open_round(round2)
    comment = services.add_comment(invitation(cards, "张伟"), a.first.items[0], "意见", during(round2))
    with pytest.raises(SchemeRefused):
        services.answer_comment(comment, AnswerOutcome.ADOPTED, "好", answerer, during(round2))
    close_round(round2)
    with pytest.raises(SchemeRefused):
        services.answer_comment(comment, AnswerOutcome.ADOPTED, "  ", answerer, during(round2))
    with pytest.raises(SchemeRefused):
        services.answer_comment(comment, "perhaps", "理由", answerer, during(round2))
    assert comment.answer is None


def test_an_adopted_comment_waits_for_the_revised_version_that_takes_it_up(
    round2, schemes, commented, answerer
):
    a, b = schemes
    now = round2.closes_at + timedelta(hours=1)
    services.answer_comment(commented[0], AnswerOutcome.ADOPTED, "改用SBS卷材", answerer, now)
    services.answer_comment(commented[1], AnswerOutcome.PARTLY, "增加8个车位", answerer, now)
    services.answer_comment(commented[2], AnswerOutcome.NOT_ADOPTED, "预算不足", answerer, now)
    assert commented[0].revised_in is None
    assert "revised version" in english(services.publish_blocker(round2))

    revised = services.revise(a, "user:1", now, "按意见修改")
    db.session.commit()
    assert (revised.number, revised.revision, revised.based_on_id) == (2, True, a.first.id)
    assert [i.title for i in revised.items] == [i.title for i in a.first.items]
    assert [i.derived_from_id for i in revised.items] == [i.id for i in a.first.items]
    assert {c.id for c in revised.taken_up} == {commented[0].id, commented[1].id}
    assert commented[2].revised_in is None  # not adopted: taken up by none
    assert services.publish_blocker(round2) is None
    publish_round(round2)
    assert round2.state is RoundState.NOTICE
    assert b.revision is None


def test_an_answer_given_after_the_revision_is_linked_to_it(round2, schemes, commented, answerer):
    a, b = schemes
    now = round2.closes_at + timedelta(hours=1)
    revised_a = services.revise(a, "user:1", now)
    revised_b = services.revise(b, "user:1", now)
    services.answer_comment(commented[1], AnswerOutcome.PARTLY, "增加8个车位", answerer, now)
    assert commented[1].revised_in == revised_a
    # merged into the other alternative: the worker names the revision that takes it up
    services.answer_comment(
        commented[0], AnswerOutcome.ADOPTED, "并入B方案", answerer, now, version=revised_b
    )
    assert commented[0].revised_in == revised_b
    services.answer_comment(commented[0], AnswerOutcome.ADOPTED, "仍在A方案", answerer, now)
    assert commented[0].revised_in == revised_a  # no version named: its own scheme's revision
    # changed to not adopted: no longer taken up
    services.answer_comment(commented[1], AnswerOutcome.NOT_ADOPTED, "场地不足", answerer, now)
    assert commented[1].revised_in is None
    with pytest.raises(SchemeRefused):  # a first version takes up nothing
        services.answer_comment(commented[2], AnswerOutcome.ADOPTED, "好", answerer, now, version=b.first)


# --- versions are frozen


def test_a_first_version_is_frozen_once_the_round_opens(round2, schemes):
    a, _b = schemes
    item = a.first.items[0]
    services.update_item(item, "屋面防水", "全部楼栋", "user:1")
    open_round(round2)
    with pytest.raises(SchemeRefused):
        services.update_item(item, "改标题", "", "user:1")
    with pytest.raises(SchemeRefused):
        services.add_item(a.first, "新项目", "", "user:1")
    with pytest.raises(SchemeRefused):
        services.add_document(a.first, PDF, "图纸.pdf", "user:1", during(round2))
    with pytest.raises(SchemeRefused):
        services.add_scheme(round2, "方案C", "user:1")
    with pytest.raises(SchemeRefused):
        services.revise(a, "user:1", during(round2))  # revisions come after the close
    assert item.title == "屋面防水"


def test_a_revision_changes_until_the_answers_are_published(round2, schemes, commented, answerer):
    a, _b = schemes
    now = round2.closes_at + timedelta(hours=1)
    revised = services.revise(a, "user:1", now)
    with pytest.raises(SchemeRefused):
        services.revise(a, "user:1", now)  # one revision per scheme and round
    services.add_item(revised, "增加8个停车位", "", "user:1")
    services.remove_item(revised.items[1], "user:1")
    with pytest.raises(SchemeRefused):
        services.add_item(a.first, "改第一版", "", "user:1")
    for comment in commented:
        services.answer_comment(comment, AnswerOutcome.NOT_ADOPTED, "理由", answerer, now)
    db.session.commit()
    publish_round(round2)
    with pytest.raises(SchemeRefused):
        services.add_item(revised, "太晚了", "", "user:1")
    assert [i.title for i in revised.items] == ["屋面防水重做", "增加8个停车位"]


def test_a_commented_item_stays(round2, schemes, commented):
    # the item of a first version is frozen anyway; the service also refuses to drop its comments
    with pytest.raises(SchemeRefused):
        services.remove_item(commented[0].item, "user:1")


def test_a_repeated_round_starts_from_the_failed_attempts_schemes(round2, schemes, commented, answerer):
    a, _b = schemes
    now = round2.closes_at + timedelta(hours=1)
    revised = services.revise(a, "user:1", now)
    services.add_item(revised, "增加8个停车位", "", "user:1")
    apply(round2, Action.FAIL, "user:1", now, reason="参与率不足")
    again = repeat(round2, "user:1", now)
    copies = services.carry_over(again, "user:1")
    db.session.commit()
    assert [s.label for s in copies] == ["A", "B"]
    assert [i.title for i in copies[0].first.items] == ["屋面防水重做", "增加12个停车位", "增加8个停车位"]
    assert copies[0].first.based_on_id == revised.id
    assert copies[0].first.number == 1
    with pytest.raises(SchemeRefused):
        services.carry_over(again, "user:1")


# --- preferences


def test_a_changed_preference_replaces_the_earlier_one(round2, schemes, cards):
    a, b = schemes
    open_round(round2)
    zhang, wang = invitation(cards, "张伟"), invitation(cards, "王芳")
    services.state_preference(zhang, a, during(round2))
    db.session.commit()
    assert [(s.label, n) for s, n in services.preference_tally(round2)] == [("A", 2), ("B", 0)]  # two flats
    services.state_preference(zhang, b, during(round2) + timedelta(hours=1))
    db.session.commit()
    assert db.session.scalar(select(func.count(SchemePreference.id))) == 2
    assert [(s.label, n) for s, n in services.preference_tally(round2)] == [("A", 0), ("B", 2)]
    # the tenant of flat 102 states A later: for that flat, the latest counts
    services.state_preference(wang, a, during(round2) + timedelta(hours=2))
    db.session.commit()
    assert [(s.label, n) for s, n in services.preference_tally(round2)] == [("A", 1), ("B", 1)]
    assert services.household_preference(wang, round2).scheme_id == a.id


def test_a_preference_needs_an_open_round_and_two_schemes(round2, schemes, cards):
    a, b = schemes
    zhang = invitation(cards, "张伟")
    with pytest.raises(SchemeRefused):
        services.state_preference(zhang, a, during(round2))  # a draft
    services.remove_scheme(b, "user:1")
    open_round(round2)
    with pytest.raises(SchemeRefused):
        services.state_preference(zhang, a, during(round2))  # nothing to choose between


def test_which_scheme_a_household_prefers_is_not_in_the_audit_log(round2, schemes, cards):
    a, _b = schemes
    open_round(round2)
    services.state_preference(invitation(cards, "李娜"), a, during(round2))
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "scheme.preference_stated")
    ).one()
    assert str(a.id) not in entry.detail.replace(f'"round":{round2.id}', "")
    assert "A" not in entry.detail


# --- notices


def test_the_author_is_told_when_their_comment_is_answered(round2, commented, answerer):
    now = round2.closes_at + timedelta(hours=1)
    services.answer_comment(
        commented[0], AnswerOutcome.PARTLY, "部分采纳", answerer, now
    )  # 张伟: has an address
    services.answer_comment(commented[2], AnswerOutcome.NOT_ADOPTED, "预算不足", answerer, now)  # 李娜: none
    db.session.commit()
    messages = db.session.scalars(select(OutboxMessage).where(ANSWERED)).all()
    assert [(m.kind.value, m.to_address) for m in messages] == [("comment_answered", "zhang@example.test")]
    assert f"/me/schemes/{round2.id}" in messages[0].text_body
    assert "张伟" not in messages[0].text_body
    # the same answer saved again sends nothing new; a changed outcome does
    services.answer_comment(commented[0], AnswerOutcome.PARTLY, "部分采纳：8个车位", answerer, now)
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(ANSWERED)) == 1
    services.answer_comment(commented[0], AnswerOutcome.NOT_ADOPTED, "经复核不采纳", answerer, now)
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(ANSWERED)) == 2


def test_a_comment_outlives_its_author_leaving_the_roster(compound, round2, schemes, cards, answerer):
    a, _b = schemes
    open_round(round2)
    comment = services.add_comment(invitation(cards, "王芳"), a.first.items[0], "租户意见", during(round2))
    db.session.commit()
    without_tenant = "\n".join(line for line in ROSTER.splitlines() if "王芳" not in line) + "\n"
    apply_rows(compound, parse_roster(without_tenant.encode()), "test")
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(SchemeComment, comment.id)
    assert kept.body == "租户意见"
    assert kept.occupant_id is None
    assert kept.author_role is AuthorRole.OCCUPANT
    close_round(round2)
    services.answer_comment(kept, AnswerOutcome.NOT_ADOPTED, "理由", answerer, round2.closes_at)
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(ANSWERED)) == 0


# --- uploads


def test_a_png_loses_its_exif_and_text(round2, schemes, upload_folder):
    a, _b = schemes
    original = png_with_metadata()
    assert b"SpyCam" in original
    assert "Author" in Image.open(BytesIO(original)).info
    document = services.add_document(a.first, original, "../../现场照片.PNG", "user:1", during(round2))
    db.session.commit()
    stored = (upload_folder / document.stored_name).read_bytes()
    assert document.kind is DocumentKind.PNG
    assert document.filename == "现场照片.png"
    assert b"SpyCam" not in stored
    assert "张伟".encode() not in stored
    cleaned = Image.open(BytesIO(stored))
    assert "exif" not in cleaned.info
    assert "Author" not in cleaned.info
    assert len(cleaned.getexif()) == 0
    assert cleaned.size == (40, 30)
    assert cleaned.getpixel((0, 0)) == (200, 30, 30)
    assert document.size == len(stored)
    assert document.stored_name.endswith(".png")
    assert "现场" not in document.stored_name


def test_a_jpeg_loses_its_exif_and_is_turned_upright(round2, schemes, upload_folder):
    a, _b = schemes
    document = services.add_document(
        a.first, jpeg_with_exif((40, 20)), "photo.jpeg", "user:1", during(round2)
    )
    stored = (upload_folder / document.stored_name).read_bytes()
    cleaned = Image.open(BytesIO(stored))
    assert b"SpyCam" not in stored
    assert b"secret comment" not in stored
    assert len(cleaned.getexif()) == 0
    assert cleaned.size == (20, 40)  # orientation 6 applied to the pixels before the tag went
    assert (document.width, document.height, document.filename) == (20, 40, "photo.jpg")


def test_a_pdf_is_kept_as_it_is(round2, schemes, upload_folder):
    a, _b = schemes
    document = services.add_document(a.first, PDF, "方案A总平面图.pdf", "user:1", during(round2))
    assert (upload_folder / document.stored_name).read_bytes() == PDF
    assert document.kind is DocumentKind.PDF


def locked_pdf() -> bytes:
    """A one-page PDF that opens only with a password."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, encrypt="secret")
    pdf.drawString(100, 100, "方案")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "Only PDF, JPEG and PNG"),  # a Windows program
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "Only PDF, JPEG and PNG"),
        (b"<html><script>alert(1)</script>", "Only PDF, JPEG and PNG"),
        (b"", "empty"),
        (b"%PDF-1.7\n" + b"\x00" * 100, "damaged"),  # no end
        (
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
            "damaged",
        ),  # no pages
        (b"%PDF-1.4\n" + b"\x00" * 100 + b"\n%%EOF\n", "damaged"),  # a start and an end, nothing between
        (locked_pdf(), "password"),
        (plain_png((20, 20))[:60], "damaged"),  # cut short
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "damaged"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused(round2, schemes, upload_folder, data, message):
    a, _b = schemes
    with pytest.raises(UploadRejected) as rejected:
        services.add_document(a.first, data, "方案.pdf", "user:1", during(round2))
    assert message in english(rejected.value.message)
    assert not upload_folder.exists() or not any(upload_folder.iterdir())
    assert db.session.scalar(select(func.count(SchemeDocument.id))) == 0


def test_an_oversized_file_is_refused(app, round2, schemes):
    a, _b = schemes
    app.config["UPLOAD_MAX_BYTES"] = 1024 * 1024
    big = PDF[:-7] + b"%" + b"x" * (1024 * 1024) + b"\n%%EOF\n"
    with pytest.raises(UploadRejected) as rejected:
        services.add_document(a.first, big, "big.pdf", "user:1", during(round2))
    assert "at most 1 MB" in english(rejected.value.message)
    app.config["UPLOAD_MAX_BYTES"] = 2 * 1024 * 1024
    assert services.add_document(a.first, big, "big.pdf", "user:1", during(round2)).size == len(big)


def test_a_pixel_bomb_is_refused(app, round2, schemes):
    a, _b = schemes
    bomb = png_header_only(60_000, 60_000)  # 3.6 billion pixels in a file of 100 bytes
    assert len(bomb) < 200
    with pytest.raises(UploadRejected) as rejected:
        services.add_document(a.first, bomb, "bomb.png", "user:1", during(round2))
    assert "too large" in english(rejected.value.message)
    # under Pillow's own alarm but over the configured limit
    app.config["UPLOAD_MAX_PIXELS"] = 1_000_000
    with pytest.raises(UploadRejected) as rejected:
        services.add_document(a.first, plain_png((1200, 1000)), "big.png", "user:1", during(round2))
    assert "at most 1 million pixels" in english(rejected.value.message)
    assert services.add_document(a.first, plain_png((1000, 1000)), "ok.png", "user:1", during(round2))


def test_display_names_are_cleaned():
    assert display_name("C:\\Users\\张伟\\图纸.PDF", DocumentKind.PDF) == "图纸.pdf"
    assert display_name("evil\r\nname.exe", DocumentKind.PNG) == "evilname.png"
    assert display_name("", DocumentKind.JPEG) == "document.jpg"
    assert display_name("x" * 300 + ".pdf", DocumentKind.PDF) == "x" * 100 + ".pdf"


def test_a_revision_shares_the_stored_files_and_removing_a_copy_keeps_the_file(
    round2, schemes, commented, upload_folder
):
    a, _b = schemes
    # the document was added before the round opened, on the first version
    round2.state = RoundState.DRAFT
    document = services.add_document(a.first, PDF, "图纸.pdf", "user:1", during(round2))
    round2.state = RoundState.CLOSED
    revised = services.revise(a, "user:1", round2.closes_at)
    db.session.commit()
    copy = revised.documents[0]
    assert copy.stored_name == document.stored_name
    assert copy.id != document.id
    stored = services.remove_document(copy, "user:1")
    db.session.commit()
    services.forget_files([stored])
    assert (upload_folder / document.stored_name).exists()  # v1 still shows it


def test_removing_a_draft_scheme_deletes_its_files(round2, schemes, upload_folder):
    a, _b = schemes
    document = services.add_document(a.first, PDF, "图纸.pdf", "user:1", during(round2))
    db.session.commit()
    path = upload_folder / document.stored_name
    assert path.exists()
    files = services.remove_scheme(a, "user:1")
    db.session.commit()
    services.forget_files(files)
    assert not path.exists()
    assert [s.label for s in services.schemes_of(round2)] == ["B"]
