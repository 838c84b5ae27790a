"""The vote's pages: the owner's ballot and receipt in both languages, occupants and strangers kept out,
staff scoping, results hidden from staff while open, the public result and receipts, paper entry, CSRF."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.residents.models import Invitation
from consult.voting import services
from consult.voting.models import Ballot
from consult.voting.models import BallotReceipt
from consult.voting.models import PaperSheet
from consult.voting.models import SheetState
from consult.voting.receipts import format_receipt
from tests.voting.conftest import close_round
from tests.voting.conftest import jpeg_with_exif
from tests.voting.conftest import open_round
from tests.voting.conftest import publish_round

FIGURES = ("Owners approving", "Floor area approving", "Abstaining", "Not passed", "Decided:", "同意的业主")


@pytest.fixture
def opened(vote):
    services.add_standard_questions(vote, "test", vote.opens_at)
    db.session.commit()
    open_round(vote)
    return vote


def ballot_data(round_, owner_id: int, choice: str = "yes") -> dict[str, str]:
    return {
        f"q{q.id}": (choice if q.kind.value == "yes_no" else "company")
        for q in services.owner_questions(round_, owner_id)
    }


def vote_and_leave(client, resident, round_, owners, name: str, choice: str = "yes"):
    """``name`` comes in with their card, answers ``choice`` to every question and leaves: the response
    to the ballot."""
    resident(name)
    response = client.post(f"/me/vote/{round_.id}", data=ballot_data(round_, owners[name].id, choice))
    client.post("/me/leave")
    return response


@pytest.mark.parametrize(
    ("lang", "cast", "saved"), [("en", "Cast my vote", "Your vote is received"), ("zh_CN", None, None)]
)
def test_an_owner_votes_and_gets_a_receipt(client, resident, opened, owners, lang, cast, saved):
    resident("张伟", lang)
    page = client.get(f"/me/vote/{opened.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    if cast:
        assert cast in html
        assert "Do you agree to install a lift in building 1, unit 1?" in html
        assert "building 2" not in html
    else:
        assert 'lang="zh-CN"' in html
        assert "您是否同意在1栋1单元加装电梯？" in html
    response = client.post(f"/me/vote/{opened.id}", data=ballot_data(opened, owners["张伟"].id))
    assert response.status_code == 302
    db.session.rollback()
    receipt = db.session.scalars(select(BallotReceipt)).one()
    assert response.headers["Location"].endswith(f"/me/vote/{opened.id}/receipt/{receipt.code}")
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert format_receipt(receipt.code) in shown
    if saved:
        assert saved in shown
    # the ballot page now shows the answers given, and the receipt
    again = client.get(f"/me/vote/{opened.id}").get_data(as_text=True)
    assert re.search(r'value="yes"[^>]*checked|checked[^>]*value="yes"', again)


def test_a_missing_answer_is_shown_on_the_form(client, resident, opened, owners):
    resident("李娜", "en")
    data = ballot_data(opened, owners["李娜"].id)
    data.pop(next(iter(data)))
    response = client.post(f"/me/vote/{opened.id}", data=data)
    assert response.status_code == 422
    assert "Choose an answer (or abstain)." in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalars(select(Ballot)).all() == []


def test_an_occupant_never_sees_a_ballot(client, resident, opened):
    resident("王芳")
    for url in (f"/me/vote/{opened.id}", f"/me/vote/{opened.id}/for/1"):
        response = client.get(url)
        assert response.status_code == 403
        assert 'type="radio"' not in response.get_data(as_text=True)
    assert client.post(f"/me/vote/{opened.id}", data={}).status_code == 403
    db.session.rollback()
    assert db.session.scalars(select(Ballot)).all() == []


def test_a_ballot_needs_the_privacy_notice_read_first(client, cards, opened):
    client.get(f"/r/{cards['李娜'].token}")
    response = client.get(f"/me/vote/{opened.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"


def test_without_a_card_the_ballot_sends_to_the_code_page(client, opened):
    response = client.get(f"/me/vote/{opened.id}")
    assert response.status_code == 302
    assert "/code" in response.headers["Location"]


def test_a_round_of_another_compound_is_not_found(client, resident, opened, create_compound):
    from consult.rounds.services import plan_default_rounds

    other = create_compound("芳邻路2号小区")
    their_vote = plan_default_rounds(other, opened.opens_at, "t")[2]
    db.session.commit()
    resident("张伟")
    assert client.get(f"/me/vote/{their_vote.id}").status_code == 404


def test_a_proxy_votes_for_the_owner_who_gave_the_authority(client, resident, opened, owners):
    services.record_proxy(
        opened,
        owners["李娜"],
        proxy_owner=owners["张伟"],
        proxy_name="",
        photo=jpeg_with_exif(),
        actor="u",
        now=opened.opens_at,
    )
    db.session.commit()
    resident("张伟", "en")
    links = services.resident_links(_inv(owners["张伟"]), opened.opens_at + timedelta(hours=2))
    assert [(done, still_open) for _label, _url, done, still_open in links] == [(False, True)] * 2
    page = client.get(f"/me/vote/{opened.id}/for/{owners['李娜'].id}")
    assert "You vote for 李*" in page.get_data(as_text=True)
    response = client.post(
        f"/me/vote/{opened.id}/for/{owners['李娜'].id}", data=ballot_data(opened, owners["李娜"].id)
    )
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200
    assert client.get(f"/me/vote/{opened.id}/for/{owners['陈秀英'].id}").status_code == 404
    db.session.rollback()
    assert set(services.my_choices(opened, owners["李娜"].id))
    assert not services.my_choices(opened, owners["张伟"].id)


def _inv(owner):
    from consult.residents.models import Invitation

    return db.session.scalars(
        select(Invitation).where(Invitation.owner_id == owner.id, Invitation.revoked_at.is_(None))
    ).one()


def test_someone_elses_receipt_is_not_shown(client, resident, opened, owners):
    location = vote_and_leave(client, resident, opened, owners, "李娜").headers["Location"]
    resident("陈秀英")
    assert client.get(location).status_code == 404


def test_results_are_hidden_from_a_worker_and_a_reviewer_while_open(
    client, auth, resident, opened, owners, workers
):
    vote_and_leave(client, resident, opened, owners, "张伟")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for who in ("a", "reviewer"):
        auth.login(workers[who])
        for url in (
            f"/compounds/{opened.compound_id}/votes/{opened.id}/results",
            f"/compounds/{opened.compound_id}/votes/{opened.id}",
        ):
            response = client.get(url)
            html = response.get_data(as_text=True)
            assert response.status_code == 200
            assert "hidden from everyone, staff included" in html
            assert "1 of 6 owners" in html  # participation only (2-1-202: an owner not known)
            assert not any(f in html for f in FIGURES)
        auth.logout()
    close_round(opened)
    auth.login(workers["reviewer"])
    html = client.get(f"/compounds/{opened.compound_id}/votes/{opened.id}/results").get_data(as_text=True)
    assert "Owners approving" in html
    assert "Participation by floor area" in html


def test_staff_of_another_street_get_not_found(client, auth, create_user, other_street, opened):
    from consult.auth.models import Role

    stranger = create_user("far@example.test", Role.WORKER, other_street)
    auth.login(stranger)
    base = f"/compounds/{opened.compound_id}/votes/{opened.id}"
    for url in (base, base + "/results", base + "/paper", base + "/proxies"):
        assert client.get(url).status_code == 404, url


def test_the_public_result_and_receipts_wait_for_the_round(client, resident, opened, owners):
    code = vote_and_leave(client, resident, opened, owners, "张伟").headers["Location"].rsplit("/", 1)[1]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    result_url = f"/p/{opened.compound_id}/result/{opened.id}"
    receipts_url = f"/p/{opened.compound_id}/receipts/{opened.id}"
    html = client.get(result_url).get_data(as_text=True)
    assert "posted here once the vote has closed" in html
    assert not any(f in html for f in FIGURES)
    assert code not in client.get(receipts_url).get_data(as_text=True)
    close_round(opened)
    listing = client.get(receipts_url).get_data(as_text=True)
    assert format_receipt(code) in listing
    assert "张" not in listing
    assert "yes" not in listing.lower().split("<main", 1)[1]
    found = client.get(receipts_url, query_string={"code": code.lower()}).get_data(as_text=True)
    assert "its ballot is counted" in found
    assert "not in the list" in client.get(receipts_url, query_string={"code": "AAAA-BBBB-CCCC"}).get_data(
        as_text=True
    )
    assert "posted here once the vote has closed" in client.get(result_url).get_data(as_text=True)
    publish_round(opened)
    shown = client.get(result_url).get_data(as_text=True)
    assert "Owners approving" not in shown  # one voter: their answers would be theirs alone
    assert "how they answered is not shown" in shown
    assert "<svg" in shown
    assert "1 of 6 owners voted" in shown
    assert "Not passed" in shown
    assert "short of" in shown
    assert "张" not in shown.split("<main", 1)[1]
    zh = client.get(result_url, headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200


def test_a_worker_defines_questions_while_the_round_is_a_draft(client, auth, vote, workers):
    auth.login(workers["a"])
    base = f"/compounds/{vote.compound_id}/votes/{vote.id}"
    client.post(base + "/questions/standard")
    unit = vote.compound.buildings[0].units[1]
    response = client.post(
        base + "/questions",
        data={
            "topic": "other",
            "prompt_zh": "是否同意增设非机动车棚？",
            "kind": "yes_no",
            "scope": "building",
            "place": f"b{unit.building_id}",
            "rule": "custom",
            "participation_area": "",
            "participation_count": "1/2",
            "approval_area": "",
            "approval_count": ">1/2",
            "approval_base": "voters",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    questions = services.questions_of(vote)
    assert len(questions) == 8
    assert questions[-1].rule["participation_count"] == "1/2"
    assert questions[-1].building_id == unit.building_id
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(base).get_data(as_text=True)
    assert "Approval by owners: more than 1/2 of the owners who voted" in page
    client.post(base + f"/questions/{questions[-1].id}/remove")
    db.session.rollback()
    assert len(services.questions_of(vote)) == 7
    open_round(vote)
    client.post(base + "/questions/standard")
    db.session.rollback()
    assert len(services.questions_of(vote)) == 7


def test_paper_ballot_by_two_workers_through_the_pages(client, auth, opened, owners, workers):
    li = owners["李娜"]
    base = f"/compounds/{opened.compound_id}/votes/{opened.id}/paper"
    day = (opened.opens_at + timedelta(hours=2)).astimezone(services.local_zone()).date().isoformat()
    data = {"signed_on": day, "proxy": "", **ballot_data(opened, li.id)}
    auth.login(workers["a"])
    assert client.get(base).status_code == 200
    response = client.post(
        f"{base}/new?owner={li.id}",
        data={**data, "photo": (io.BytesIO(jpeg_with_exif()), "ballot.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    sheet = db.session.scalars(select(PaperSheet)).one()
    assert client.get(f"{base}/{sheet.id}/photo").headers["Content-Type"] == "image/jpeg"
    assert client.post(f"{base}/{sheet.id}", data=data).status_code == 403  # not twice by one worker
    auth.logout()
    auth.login(workers["b"])
    assert client.post(f"{base}/{sheet.id}", data=data).status_code == 302
    db.session.rollback()
    assert db.session.get(PaperSheet, sheet.id).state is SheetState.CONFIRMED
    assert services.my_choices(opened, li.id)


def test_a_counted_paper_ballot_shows_its_choices_and_photo_only_after_a_logged_look(
    client, auth, opened, owners, workers
):
    """Entering a paper ballot needs its photo and, on a mismatch, the entries side by side; once it
    counts, it is how the owner voted, seen like any ballot: after the close, by staff who state why."""
    li = owners["李娜"]
    day = (opened.opens_at + timedelta(hours=2)).astimezone(services.local_zone()).date()
    values = services.PaperValues(day, {int(k[1:]): v for k, v in ballot_data(opened, li.id, "no").items()})
    sheet = services.enter_paper(opened, li, values, jpeg_with_exif(), workers["a"], opened.opens_at)
    db.session.commit()
    base = f"/compounds/{opened.compound_id}/votes/{opened.id}"
    sheet_url = f"{base}/paper/{sheet.id}"
    auth.login(workers["b"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    waiting = client.get(sheet_url).get_data(as_text=True)
    assert f"{sheet_url}/photo" in waiting  # the second worker reads the photo
    assert client.get(f"{sheet_url}/photo").status_code == 200
    services.add_entry(sheet, values, workers["b"], opened.opens_at)
    db.session.commit()
    assert sheet.state is SheetState.CONFIRMED

    for worker in ("a", "b", "c"):
        auth.logout()
        auth.login(workers[worker])
        counted = client.get(sheet_url).get_data(as_text=True)
        assert "This paper ballot counts" in counted
        assert f"{sheet_url}/photo" not in counted
        assert "The entries side by side" not in counted
        assert client.get(f"{sheet_url}/photo").status_code == 403

    close_round(opened)
    look = {"owner": str(li.id), "reason": "the owner asked us to check"}
    inspect = client.post(f"{base}/inspect", data=look)
    assert inspect.status_code == 200
    assert f"{sheet_url}/photo" in inspect.get_data(as_text=True)  # in the logged look's table
    assert client.get(f"{sheet_url}/photo").headers["Content-Type"] == "image/jpeg"
    assert f"{sheet_url}/photo" in client.get(sheet_url).get_data(as_text=True)
    auth.logout()
    auth.login(workers["a"])  # another worker's look does not open it for them
    assert client.get(f"{sheet_url}/photo").status_code == 403


def test_starting_a_new_paper_ballot_for_an_owner_whose_paper_waits_leads_to_that_sheet(
    client, auth, opened, owners, workers
):
    """The user test: worker a enters 1-1-201's paper; worker b, to enter it a second time, takes "Enter a
    signed paper ballot", picks the same owner and continues. No second sheet: b is sent to the pending
    one, and b's entry there confirms it."""
    li = owners["李娜"]
    base = f"/compounds/{opened.compound_id}/votes/{opened.id}/paper"
    day = (opened.opens_at + timedelta(hours=2)).astimezone(services.local_zone()).date().isoformat()
    data = {"signed_on": day, "proxy": "", **ballot_data(opened, li.id)}
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login(workers["a"])
    new = client.post(
        f"{base}/new?owner={li.id}",
        data={**data, "photo": (io.BytesIO(jpeg_with_exif()), "ballot.jpg")},
        content_type="multipart/form-data",
    )
    assert new.status_code == 302
    db.session.rollback()
    sheet = db.session.scalars(select(PaperSheet)).one()
    sheet_url = f"{base}/{sheet.id}"
    # the first worker going the same way is sent there too, and told that another worker enters it
    again = client.get(f"{base}/new?owner={li.id}", follow_redirects=True)
    assert again.request.path == sheet_url
    page = again.get_data(as_text=True)
    assert "you made the first" in page
    assert "You entered this ballot already: another worker makes the next entry." in page
    assert "Save the entry" not in page
    auth.logout()

    auth.login(workers["b"])
    start = client.get(f"{base}/new?owner={li.id}")
    assert start.status_code == 302
    assert start.headers["Location"].endswith(sheet_url)
    page = client.get(sheet_url).get_data(as_text=True)
    assert "This owner&#39;s paper ballot is waiting for its second entry: enter it here." in page
    assert "Your independent entry" in page
    # a form already filled in on the new-ballot page (the sheet was started meanwhile) creates nothing
    other = {"signed_on": day, "proxy": "", **ballot_data(opened, li.id, "no")}
    posted = client.post(
        f"{base}/new?owner={li.id}",
        data={**other, "photo": (io.BytesIO(jpeg_with_exif("red")), "ballot.jpg")},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 302
    assert posted.headers["Location"].endswith(sheet_url)
    db.session.rollback()
    assert [s.id for s in db.session.scalars(select(PaperSheet))] == [sheet.id]
    client.get(sheet_url)  # (the message is shown once)

    confirmed = client.post(sheet_url, data=data, follow_redirects=True)
    assert "The entries match: the paper ballot counts." in confirmed.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(PaperSheet, sheet.id).state is SheetState.CONFIRMED
    assert {b.sheet_id for b in services.my_choices(opened, li.id).values()} == {sheet.id}
    assert db.session.scalars(select(PaperSheet)).all() == [db.session.get(PaperSheet, sheet.id)]


def mismatched_sheet(opened, li, workers):
    """李娜's signed paper, entered by worker a and again by worker b with other choices."""
    day = (opened.opens_at + timedelta(hours=2)).astimezone(services.local_zone()).date()
    values = services.PaperValues(day, {int(k[1:]): v for k, v in ballot_data(opened, li.id).items()})
    other = services.PaperValues(day, {int(k[1:]): v for k, v in ballot_data(opened, li.id, "no").items()})
    sheet = services.enter_paper(opened, li, values, jpeg_with_exif(), workers["a"], opened.opens_at)
    services.add_entry(sheet, other, workers["b"], opened.opens_at)
    db.session.commit()
    return sheet


def test_a_sheet_in_mismatch_is_where_a_new_paper_ballot_of_its_owner_leads(
    client, auth, opened, owners, workers
):
    li = owners["李娜"]
    sheet = mismatched_sheet(opened, li, workers)
    base = f"/compounds/{opened.compound_id}/votes/{opened.id}/paper"
    auth.login(workers["c"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"{base}/new?owner={li.id}", follow_redirects=True)
    assert page.request.path == f"{base}/{sheet.id}"
    text = page.get_data(as_text=True)
    assert "entries that differ: settle it here" in text
    assert "The entries side by side" in text


def test_the_new_paper_ballot_page_tells_of_the_owners_confirmed_paper_and_online_ballots(
    client, auth, opened, owners, workers, cards
):
    li, chen = owners["李娜"], owners["陈秀英"]
    base = f"/compounds/{opened.compound_id}/votes/{opened.id}/paper"
    day = (opened.opens_at + timedelta(hours=2)).astimezone(services.local_zone()).date()
    auth.login(workers["c"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    fresh = client.get(f"{base}/new?owner={li.id}").get_data(as_text=True)
    assert "already has a confirmed paper ballot" not in fresh
    assert "voted online" not in fresh

    values = services.PaperValues(day, {int(k[1:]): v for k, v in ballot_data(opened, li.id).items()})
    sheet = services.enter_paper(opened, li, values, jpeg_with_exif(), workers["a"], opened.opens_at)
    services.add_entry(sheet, values, workers["b"], opened.opens_at)
    db.session.commit()
    page = client.get(f"{base}/new?owner={li.id}")
    assert page.status_code == 200  # a paper signed again later may still be entered
    text = page.get_data(as_text=True)
    assert (
        f"This owner already has a confirmed paper ballot (ballot {sheet.id}, signed on {day.isoformat()})."
        in text
    )
    assert f"it counts only if signed on {day.isoformat()} or later." in text
    assert "voted online" not in text
    assert "already has a confirmed paper ballot" not in client.get(f"{base}/new?owner={chen.id}").get_data(
        as_text=True
    )

    online_at = opened.opens_at + timedelta(hours=30)
    invitation = db.session.get(Invitation, cards["陈秀英"].invitation.id)
    services.cast_online(
        opened, invitation, {int(k[1:]): v for k, v in ballot_data(opened, chen.id).items()}, online_at
    )
    db.session.commit()
    online_day = online_at.astimezone(services.local_zone()).date().isoformat()
    text = client.get(f"{base}/new?owner={chen.id}").get_data(as_text=True)
    assert (
        f"This owner also voted online (last on {online_day}): a paper ballot counts instead only if signed"
        f" on {online_day} or later." in text
    )
    assert "already has a confirmed paper ballot" not in text


@pytest.mark.parametrize(
    ("precedence", "said"),
    [
        ("paper", "under this compound's rule a confirmed paper ballot counts instead."),
        ("online", "under this compound's rule the online ballot counts, not a paper one."),
    ],
)
def test_the_notice_of_an_online_ballot_follows_the_compounds_precedence(
    client, auth, vote, owners, workers, cards, compound, precedence, said
):
    services.save_settings(compound, services.Precedence(precedence), None, "user:1", vote.opens_at)
    services.add_standard_questions(vote, "test", vote.opens_at)
    db.session.commit()
    open_round(vote)
    chen = owners["陈秀英"]
    invitation = db.session.get(Invitation, cards["陈秀英"].invitation.id)
    services.cast_online(
        vote, invitation, {int(k[1:]): v for k, v in ballot_data(vote, chen.id).items()}, vote.opens_at
    )
    db.session.commit()
    auth.login(workers["a"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    text = client.get(f"/compounds/{vote.compound_id}/votes/{vote.id}/paper/new?owner={chen.id}").get_data(
        as_text=True
    )
    day = vote.opens_at.astimezone(services.local_zone()).date().isoformat()
    assert f"This owner also voted online (last on {day}): {said}".replace("'", "&#39;") in text


def test_without_a_photo_no_paper_ballot(client, auth, opened, owners, workers):
    li = owners["李娜"]
    auth.login(workers["a"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    day = (opened.opens_at + timedelta(hours=2)).astimezone(services.local_zone()).date().isoformat()
    base = f"/compounds/{opened.compound_id}/votes/{opened.id}/paper"
    response = client.post(f"{base}/new?owner={li.id}", data={"signed_on": day, **ballot_data(opened, li.id)})
    assert response.status_code == 422
    assert "A photo of the ballot is required." in response.get_data(as_text=True)


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_a_ballot_without_the_csrf_token_is_refused(client, cards, opened, owners):
    client.get(f"/r/{cards['张伟'].token}")
    assert (
        client.post(f"/me/vote/{opened.id}", data=ballot_data(opened, owners["张伟"].id)).status_code == 400
    )


def test_settings_and_proxies_pages(client, auth, vote, owners, workers):
    auth.login(workers["a"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = f"/compounds/{vote.compound_id}/votes/settings"
    assert "When an owner voted both online and on paper" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"precedence": "paper", "proxy_limit": "2"}).status_code == 302
    db.session.rollback()
    assert services.settings_of(vote.compound_id) == services.Settings(services.Precedence.PAPER, 2)
    base = f"/compounds/{vote.compound_id}/votes/{vote.id}/proxies"
    assert "Record an authority" in client.get(base).get_data(as_text=True)
    missing = client.post(
        base, data={"owner": str(owners["李娜"].id), "proxy_owner": "", "proxy_name": "李强"}
    )
    assert missing.status_code == 422
    assert "A photo of the authority is required." in missing.get_data(as_text=True)
    response = client.post(
        base,
        data={
            "owner": str(owners["李娜"].id),
            "proxy_owner": str(owners["张伟"].id),
            "proxy_name": "",
            "photo": (io.BytesIO(jpeg_with_exif()), "authority.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.rollback()
    [proxy] = services.live_proxies(vote)
    assert proxy.proxy_owner_id == owners["张伟"].id
    listing = client.get(base).get_data(as_text=True)
    assert "张*" in listing
    assert "张伟" not in listing
    assert client.get(f"{base}/{proxy.id}/photo").headers["Content-Type"] == "image/jpeg"
    client.post(f"{base}/{proxy.id}/revoke")
    db.session.rollback()
    assert services.live_proxies(vote) == []


def test_a_supervisor_settles_a_mismatch_through_the_page(client, auth, opened, owners, workers):
    li = owners["李娜"]
    sheet = mismatched_sheet(opened, li, workers)
    base = f"/compounds/{opened.compound_id}/votes/{opened.id}/paper/{sheet.id}"
    auth.login(workers["c"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(base).get_data(as_text=True)
    assert "The entries side by side" in page
    assert "Decide as supervisor" not in page  # a worker enters a third time; only a supervisor decides
    assert (
        client.post(base + "/choose", data={"entry": str(sheet.entries[1].id), "reason": "x"}).status_code
        == 403
    )
    auth.logout()
    auth.login(workers["admin"])
    page = client.get(base).get_data(as_text=True)
    assert "Decide as supervisor" in page
    client.post(base + "/choose", data={"entry": str(sheet.entries[1].id), "reason": "照片上是不同意"})
    db.session.rollback()
    sheet = db.session.get(PaperSheet, sheet.id)
    assert sheet.state is SheetState.CONFIRMED
    assert sheet.resolution_reason == "照片上是不同意"
    assert "a supervisor chose" in client.get(base).get_data(as_text=True)


def test_a_plan_question_with_bars_below_the_laws_is_flagged(client, auth, vote, workers):
    auth.login(workers["a"])
    base = f"/compounds/{vote.compound_id}/votes/{vote.id}"
    low = {"participation_area": "1/100", "participation_count": "1/100", "approval_area": ">1/2"}
    response = client.post(
        base + "/questions",
        data={
            "topic": "plan",
            "prompt_zh": "是否同意改造方案？",
            "kind": "yes_no",
            "scope": "compound",
            "place": "",
            "rule": "custom",
            **low,
            "approval_count": ">1/2",
            "approval_base": "voters",
        },
    )
    assert response.status_code == 302
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(base).get_data(as_text=True)
    assert (
        "This rule is below the Civil Code&#39;s (art. 278) for this decision: Participation by area; "
        "Participation by owners; Approval by area; Approval by owners." in page
    )


def test_the_owner_picker_names_the_developer_and_masks_people(client, auth, opened, owners, workers):
    auth.login(workers["a"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/compounds/{opened.compound_id}/votes/{opened.id}/paper").get_data(as_text=True)
    assert "The developer (unsold units)" in page
    assert "张*" in page
    assert "开*" not in page
    assert "张伟" not in page


UNKNOWN_EN = (
    "Of these owners, 1 is a dwelling whose owner is not known: it counts as an owner who did not vote."
)
UNKNOWN_ZH = "这些业主中，有 1 户是业主不明的房屋：每户算作一位没有投票的业主。"


def result_sections(html: str) -> dict[str, str]:
    """Each question's part of a result page, by its prompt."""
    parts = html.split('<section class="vote-result"')[1:]
    return {unescape(re.search(r"<h2[^>]*>\d+\. ([^<]+)</h2>", p).group(1)): p for p in parts}


def test_the_result_says_how_many_owners_in_scope_are_dwellings_whose_owner_is_not_known(
    client, auth, resident, opened, owners, workers
):
    for name in ("张伟", "李娜", "陈秀英", "开发商"):
        vote_and_leave(client, resident, opened, owners, name)
    close_round(opened)
    publish_round(opened)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = f"/p/{opened.compound_id}/result/{opened.id}"
    for page in (url, f"/compounds/{opened.compound_id}/votes/{opened.id}/results"):
        if not page.startswith("/p/"):
            auth.login(workers["a"])
        sections = result_sections(client.get(page).get_data(as_text=True))
        # 2-1-202 (owner not known) is in the compound's questions and in building 2, unit 1's lift
        assert UNKNOWN_EN in sections["Do you agree to the compound's renovation plan (revised)?"]
        assert UNKNOWN_EN in sections["Do you agree to install a lift in building 2, unit 1?"]
        assert "is not known" not in sections["Do you agree to install a lift in building 1, unit 1?"]
    auth.logout()
    # the results at a glance: each question with its outcome, linked to its part of the page
    html = client.get(url).get_data(as_text=True)
    sections = result_sections(html)
    glance = html.split('<nav class="glance"', 1)[1].split("</nav>", 1)[0]
    outcomes = re.findall(
        r'<a href="#(q\d+)">([^<]+)</a> <strong class="verdict \w+">([^<]+)</strong>', glance
    )
    assert [(unescape(prompt), verdict) for _id, prompt, verdict in outcomes] == [
        (prompt, re.search(r'<p class="verdict \w+"><strong>([^<]+)</strong>', part).group(1))
        for prompt, part in sections.items()
    ]
    assert all(f'<h2 id="{anchor}">' in html for anchor, _prompt, _verdict in outcomes)
    assert len(outcomes) == len(sections) > 1
    zh = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert UNKNOWN_ZH in result_sections(zh)["您是否同意在2栋1单元加装电梯？"]
    assert UNKNOWN_ZH not in result_sections(zh)["您是否同意在1栋1单元加装电梯？"]


def test_the_vote_page_leads_to_who_has_voted_and_the_doors_to_visit(
    client, auth, resident, opened, owners, workers
):
    vote_and_leave(client, resident, opened, owners, "张伟")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login(workers["a"])
    html = client.get(f"/compounds/{opened.compound_id}/votes/{opened.id}").get_data(as_text=True)
    base = f"/compounds/{opened.compound_id}/rounds/{opened.id}"
    assert f'href="{base}/participation"' in html
    assert f'href="{base}/doors"' in html
    assert client.get(f"{base}/participation").status_code == 200
    doors = client.get(f"{base}/doors").get_data(as_text=True)
    # 张伟 voted for both his rooms in building 1, unit 1; the owners of building 1, unit 2 did not
    assert "Building 1, unit 1" not in doors
    assert re.search(r"Building 1, unit 2</h2>\s*<p class=\"rooms\">201  ·  202</p>", doors)
    assert "张伟" not in doors  # rooms only, no names
    assert "李娜" not in doors


def test_a_vote_marked_failed_after_it_closed_keeps_its_result_public(client, resident, opened, owners):
    from consult.rounds.rules import Action
    from consult.rounds.services import apply
    from consult.rounds.services import repeat

    for name in ("张伟", "李娜", "陈秀英"):
        vote_and_leave(client, resident, opened, owners, name, "no")
    close_round(opened)
    apply(opened, Action.FAIL, "test", opened.closes_at + timedelta(hours=1), "the plan was voted down")
    repeat(opened, "test", opened.closes_at + timedelta(hours=2))
    db.session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    notice = client.get(f"/p/{opened.compound_id}").get_data(as_text=True)
    words = "Result of the vote of round 3, attempt 1: failed"
    assert f'<a href="/p/{opened.compound_id}/result/{opened.id}">{words}</a>' in notice
    result = client.get(f"/p/{opened.compound_id}/result/{opened.id}").get_data(as_text=True)
    assert "3 of 6 owners voted" in result
    assert "Not passed" in result


@pytest.mark.parametrize(
    ("part", "whole", "near"),
    [(8, 12, True), (7, 12, False), (9, 12, False), (66_666, 100_000, True), (66_650, 100_000, False)],
)
def test_a_bar_shows_its_exact_fraction_where_the_percentages_cannot_tell(app, part, whole, near):
    """66.67% may be exactly 2/3 or just below it: the result names the fraction then, and only then."""
    from fractions import Fraction

    from consult.voting.present import bar_view
    from consult.voting.rules import BarResult
    from consult.voting.rules import Threshold

    threshold = Threshold(Fraction(2, 3))
    bar = BarResult(
        "participation_count", threshold, Fraction(part), Fraction(whole), threshold.met(part, whole)
    )
    with app.test_request_context():
        assert bar_view(bar).near is near
