"""The record's pages: a worker submits, a reviewer returns or approves, workers and (when chosen)
residents see the reasons; anyone checks a digest."""

from __future__ import annotations

import csv
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import jsonschema_rs
from sqlalchemy import select

from consult import register_round_content
from consult.dossier.models import ConsensusRecord
from consult.dossier.rules import group_digest
from consult.dossier.sample import DAYS_BEFORE
from consult.dossier.sample import Stage
from consult.dossier.sample import run_consultation
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.models import Round
from consult.rounds.rules import RoundState
from consult.ui import day
from consult.ui import when
from consult.voting.services import questions_of
from tests.dossier.conftest import ROSTER
from tests.test_i18n import latin_words
from tests.test_i18n import visible_text


def zh_text(response) -> str:
    """The visible text of a Chinese page, without digests (hexadecimal, on purpose)."""
    html = re.sub(r"<code>.*?</code>", " ", response.get_data(as_text=True), flags=re.S)
    return visible_text(html)


def submit(client, compound_id: int, **extra):
    data = {"subsidy": "1200", "share": "30", "deposit": "2.5", "note": "区财政补贴", "confirm": "y", **extra}
    return client.post(f"/compounds/{compound_id}/record", data=data)


def submitted_for_review(client, auth, compound, staff) -> ConsensusRecord:
    """The worker submits the record; the reviewer is signed in to decide it."""
    auth.login(staff["worker"])
    submit(client, compound.id)
    auth.logout()
    auth.login(staff["reviewer"])
    db.session.rollback()
    return db.session.scalars(select(ConsensusRecord)).one()


def test_a_worker_submits_the_record_and_reads_the_frozen_version(client, auth, consultation, staff):
    compound = consultation.compound
    auth.login(staff["worker"])
    page = client.get(f"/compounds/{compound.id}/record")
    assert page.status_code == 200
    assert "汇编并提交区级审核" in page.get_data(as_text=True)
    assert latin_words(zh_text(page)) == set()
    response = submit(client, compound.id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/compounds/{compound.id}/record/1")
    db.session.rollback()
    record = db.session.scalars(select(ConsensusRecord)).one()
    version = client.get(f"/compounds/{compound.id}/record/1")
    html = version.get_data(as_text=True)
    assert "已提交，待审核" in html
    assert "1200" in html
    assert latin_words(zh_text(version)) == set()
    assert record.digest[:8] in html
    pdf = client.get(f"/compounds/{compound.id}/record/1/dossier.pdf")
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert "最新版本正在等待区级审核" in client.get(f"/compounds/{compound.id}/record").get_data(as_text=True)
    assert f"/compounds/{compound.id}/record" in client.get(f"/compounds/{compound.id}").get_data(
        as_text=True
    )


def test_a_bad_figure_is_refused_and_nothing_is_frozen(client, auth, consultation, staff):
    auth.login(staff["worker"])
    response = submit(client, consultation.compound.id, share="130")
    assert response.status_code == 422
    db.session.rollback()
    assert db.session.scalars(select(ConsensusRecord)).all() == []


def test_a_reviewer_returns_round_three_and_workers_and_residents_see_why(client, auth, consultation, staff):
    compound = consultation.compound
    record = submitted_for_review(client, auth, compound, staff)
    queue = client.get("/district/records")
    assert compound.name in queue.get_data(as_text=True)
    assert latin_words(zh_text(queue)) == set()
    review = client.get(f"/district/records/{record.id}")
    assert latin_words(zh_text(review)) == set()
    refused = client.post(f"/district/records/{record.id}/return", data={"reopen_round": "3", "days": "14"})
    assert refused.status_code == 422
    assert "请至少在一个部分写明退回理由" in refused.get_data(as_text=True)
    empty = client.post(f"/district/records/{record.id}/return", data={}).get_data(as_text=True)
    # every problem at once
    assert "请选择第二轮或第三轮" in empty
    assert "请至少在一个部分写明退回理由" in empty
    response = client.post(
        f"/district/records/{record.id}/return",
        data={"reason_lifts": "2栋1单元表决率不足，请补充入户征询", "reopen_round": "3", "days": "7"},
    )
    assert response.status_code == 302
    db.session.rollback()
    assert consultation.rounds[2].state is RoundState.OPEN
    auth.logout()
    auth.login(staff["worker"])
    for path in (
        f"/compounds/{compound.id}/rounds",
        f"/compounds/{compound.id}",
        f"/compounds/{compound.id}/record",
    ):
        assert "2栋1单元表决率不足" in client.get(path).get_data(as_text=True), path
    auth.logout()
    assert "2栋1单元表决率不足" not in client.get(f"/p/{compound.id}").get_data(as_text=True)


def test_reasons_reach_the_public_page_when_the_reviewer_chooses(client, auth, consultation, staff):
    compound = consultation.compound
    record = submitted_for_review(client, auth, compound, staff)
    client.post(
        f"/district/records/{record.id}/return",
        data={"reason_comments": "答复过于简单", "reopen_round": "2", "days": "14", "show_residents": "y"},
    )
    auth.logout()
    public = client.get(f"/p/{compound.id}")
    assert "答复过于简单" in public.get_data(as_text=True)


def test_a_return_to_round_two_shows_the_worker_the_vote_to_hold_again(client, auth, consultation, staff):
    compound, vote = consultation.compound, consultation.rounds[2]
    record = submitted_for_review(client, auth, compound, staff)
    review = zh_text(client.get(f"/district/records/{record.id}"))
    assert "第二轮：方案、意见与答复（其后重新表决）" in review
    client.post(
        f"/district/records/{record.id}/return",
        data={"reason_schemes": "绿化方案需调整", "reopen_round": "2", "days": "14"},
    )
    auth.logout()
    auth.login(staff["worker"])
    timeline = zh_text(client.get(f"/compounds/{compound.id}/rounds"))
    # the vote's history says why it is held again, in the reviewer's words (of the section named)
    overtaken = "前面的轮次重新开放，本轮结果不再有效，将重新进行"
    assert f"{overtaken} → 未通过：设计方案及各版本：绿化方案需调整" in timeline
    assert "重新进行这一轮" in timeline
    page = zh_text(client.get(f"/compounds/{compound.id}/record"))
    assert "审核退回时重新开放的一轮须先再次结束。" in page
    auth.logout()
    public = zh_text(client.get(f"/p/{compound.id}"))
    assert f"最后投票，定下小区自己的方案（一院一策）：{overtaken}" in public
    result = zh_text(client.get(f"/p/{compound.id}/result/{vote.id}"))
    assert "这一结果已不再有效：区级审核退回后，此前的轮次在本次表决之后重新开放，表决将重新进行。" in result
    auth.login(staff["worker"])
    again = client.post(f"/compounds/{compound.id}/rounds/{vote.id}/repeat", follow_redirects=True)
    assert "第 3 轮将重新进行（第 2 次）" in zh_text(again)
    db.session.rollback()
    repeat = db.session.scalars(select(Round).where(Round.repeat_of_id == vote.id)).one()
    manage = f"/compounds/{compound.id}/votes/{repeat.id}"
    assert "沿用上一次表决的表决事项" in zh_text(client.get(manage))
    carried = client.post(f"{manage}/questions/carry-over", follow_redirects=True)
    assert f"已添加 {len(questions_of(vote))} 个问题。" in zh_text(carried)
    assert "沿用上一次表决的表决事项" not in zh_text(carried)


def test_a_reviewer_approves_and_the_dashboard_shows_it(client, auth, consultation, staff):
    compound = consultation.compound
    record = submitted_for_review(client, auth, compound, staff)
    assert "待审核的共识记录：1 份" in client.get("/district/").get_data(as_text=True)
    unticked = client.post(f"/district/records/{record.id}/approve")
    assert unticked.status_code == 422  # the box says the decision is final: nothing without it
    assert "请勾选" in unticked.get_data(as_text=True)
    assert "待审核的共识记录：1 份" in client.get("/district/").get_data(as_text=True)
    assert client.post(f"/district/records/{record.id}/approve", data={"confirm": "y"}).status_code == 302
    dashboard = client.get("/district/").get_data(as_text=True)
    assert "第 1 版：已通过" in dashboard
    assert "待审核的共识记录：0 份" in dashboard
    header, *rows = csv.reader(client.get("/district/compounds.csv").data.decode("utf-8-sig").splitlines())
    row = next(r for r in rows if r[0] == str(compound.id))
    assert header[-3:] == ["共识记录版本", "共识记录状态", "记录状态代码"]
    assert row[-3:] == ["1", "已通过", "approved"]
    opened = client.get(f"/api/v1/compounds/{compound.id}").get_json()
    listed = client.get("/api/v1/compounds").get_json()["items"]
    assert opened["record"] == {"version": 1, "status": "approved"}
    assert [c["record"] for c in listed if c["id"] == compound.id] == [opened["record"]]
    spec = client.get("/api/v1/openapi.json").get_json()
    jsonschema_rs.Draft202012Validator({**spec, "$ref": "#/components/schemas/CompoundDetail"}).validate(
        opened
    )
    auth.logout()
    auth.login(staff["worker"])
    version = client.get(f"/compounds/{compound.id}/record/1").get_data(as_text=True)
    assert f"· {staff['reviewer'].name}</p>" in version  # the decision says who approved it
    auth.logout()
    auth.login(staff["reviewer"])
    again = client.post(
        f"/district/records/{record.id}/approve", data={"confirm": "y"}, follow_redirects=True
    )
    assert "该版本已有审核决定" in again.get_data(as_text=True)


def test_anyone_checks_a_digest(client, auth, consultation, staff):
    auth.login(staff["worker"])
    submit(client, consultation.compound.id)
    auth.logout()
    db.session.rollback()
    record = db.session.scalars(select(ConsensusRecord)).one()
    found = client.get("/verify", query_string={"digest": record.digest.upper()})
    html = found.get_data(as_text=True)
    assert "摘要与一份已提交的记录相符" in html
    assert "浣花小区" in html
    assert latin_words(zh_text(found)) == set()
    forged = record.digest[:-1] + ("0" if record.digest[-1] != "0" else "1")
    assert "没有与此摘要相符" in client.get("/verify", query_string={"digest": forged}).get_data(as_text=True)
    assert "这不是有效的摘要" in client.get("/verify", query_string={"digest": "nonsense"}).get_data(
        as_text=True
    )


def test_the_review_shows_each_bar_of_each_question_against_its_threshold(client, auth, consultation, staff):
    record = submitted_for_review(client, auth, consultation.compound, staff)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    review = visible_text(client.get(f"/district/records/{record.id}").get_data(as_text=True))
    assert re.search(r"Participation by area: \d+\.\d\d% \(≥ 66\.67%\) ✓", review)
    assert "(≥ 75.00%)" in review  # the plan's approval, by the Civil Code's major rule
    assert "below the Civil Code" not in review  # the standard questions keep the law's bars


def test_the_public_notice_says_where_the_record_stands_and_how_to_check_a_copy(
    client, auth, consultation, staff
):
    compound = consultation.compound
    heading = "本小区的方案（共识记录，一院一策）"
    assert heading not in zh_text(client.get(f"/p/{compound.id}"))  # nothing submitted yet
    record = submitted_for_review(client, auth, compound, staff)
    auth.logout()
    waiting = client.get(f"/p/{compound.id}").get_data(as_text=True)
    assert heading in waiting
    assert "已提交，待审核" in waiting
    assert group_digest(record.digest) in waiting
    auth.login(staff["reviewer"])
    client.post(f"/district/records/{record.id}/approve", data={"confirm": "y"})
    auth.logout()
    db.session.rollback()
    approved = zh_text(client.get(f"/p/{compound.id}"))
    assert f"已通过 · {day(record.decision.decided_at)}" in approved
    check = re.search(
        r'href="(/verify\?digest=[0-9a-f]{64})"', client.get(f"/p/{compound.id}").get_data(as_text=True)
    )
    assert check.group(1) == f"/verify?digest={record.digest}"
    assert "摘要与一份已提交的记录相符" in zh_text(client.get(check.group(1)))


def test_the_ballot_leads_to_the_revised_plan_it_decides(client, compound, staff, uploads):
    register_round_content()
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    start = datetime.now(UTC) - timedelta(days=DAYS_BEFORE[Stage.VOTE_OPEN])
    experts = [staff["expert"], staff["expert2"]]
    done = run_consultation(
        compound, start, staff["worker"], staff["reviewer"], experts, turnout=1.0, until=Stage.VOTE_OPEN
    )
    db.session.commit()
    scheme_round, vote = done.rounds[1], done.rounds[2]
    owner_card = next(c for c in done.cards if c.person.owner is not None)
    assert client.get(f"/r/{owner_card.token}").status_code == 302
    ballot = client.get(f"/me/vote/{vote.id}").get_data(as_text=True)
    plan = re.search(r'<a href="(/me/schemes/\d+)">阅读修改后的方案和对居民意见的答复</a>', ballot)
    assert plan.group(1) == f"/me/schemes/{scheme_round.id}"
    assert "保留院落格局" in zh_text(client.get(plan.group(1)))  # the revised scheme A


def test_the_reviewer_reads_the_record_before_the_decision(client, auth, consultation, staff):
    record = submitted_for_review(client, auth, consultation.compound, staff)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/district/records/{record.id}").get_data(as_text=True)
    assert '<a href="#decision">Go to the decision</a>' in page
    content = page.index("Rounds, participation and results")
    assert content < page.index('<section id="decision"') < page.index("Approve the record")
    unticked = client.post(f"/district/records/{record.id}/approve").get_data(as_text=True)
    # the reason it was refused is said at the top, before the record, not only beside the box
    summary = unticked.index("Please correct the following")
    assert summary < unticked.index("Rounds, participation and results")


def test_a_worker_reads_a_preview_before_submitting(client, auth, consultation, staff):
    compound = consultation.compound
    auth.login(staff["worker"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/compounds/{compound.id}/record").get_data(as_text=True)
    assert f'<a href="/compounds/{compound.id}/record/preview">Read it first (preview)</a>' in page
    preview = client.get(f"/compounds/{compound.id}/record/preview").get_data(as_text=True)
    assert "Not submitted" in preview
    assert "Rounds, participation and results" in preview
    assert "The vote (round 3)" in preview
    assert db.session.scalars(select(ConsensusRecord)).all() == []  # reading it froze nothing
    auth.logout()
    submitted_for_review(client, auth, compound, staff)
    preview = client.get(f"/compounds/{compound.id}/record/preview").get_data(as_text=True)
    assert "There is no preview while no version may be submitted" in preview
    assert "The latest version is waiting for the district review." in preview
    assert "Rounds, participation and results" not in preview


def test_no_preview_shows_a_vote_still_open(client, auth, compound, staff, uploads):
    register_round_content()
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    start = datetime.now(UTC) - timedelta(days=DAYS_BEFORE[Stage.VOTE_OPEN])
    experts = [staff["expert"], staff["expert2"]]
    run_consultation(
        compound, start, staff["worker"], staff["reviewer"], experts, turnout=1.0, until=Stage.VOTE_OPEN
    )
    db.session.commit()
    auth.login(staff["worker"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    preview = client.get(f"/compounds/{compound.id}/record/preview").get_data(as_text=True)
    assert "The record is assembled once the vote (round 3) has closed." in preview
    assert "The vote (round 3)</h2>" not in preview  # its results stay hidden until it closes


def test_the_funding_note_shows_beside_the_funding_figures_on_the_record_pages(
    client, auth, consultation, staff
):
    compound = consultation.compound
    auth.login(staff["worker"])
    submit(client, compound.id, note="区财政补贴\n街道配套资金")
    version = client.get(f"/compounds/{compound.id}/record/1").get_data(as_text=True)
    note = "<dt>备注</dt><dd>区财政补贴<br>街道配套资金</dd>"
    assert version.index("每户补贴（元）") < version.index(note)
    auth.logout()
    auth.login(staff["reviewer"])
    db.session.rollback()
    record = db.session.scalars(select(ConsensusRecord)).one()
    review = client.get(f"/district/records/{record.id}").get_data(as_text=True)
    assert note in review


def test_a_decided_record_s_review_page_says_how_when_and_by_whom_and_leads_to_the_decisions(
    client, auth, consultation, staff
):
    record = submitted_for_review(client, auth, consultation.compound, staff)
    waiting = client.get(f"/district/records/{record.id}").get_data(as_text=True)
    assert '<a href="/district/records">待审核的共识记录</a>' in waiting
    assert "<dt>决定</dt>" not in waiting
    client.post(f"/district/records/{record.id}/approve", data={"confirm": "y"})
    db.session.rollback()
    decided = client.get(f"/district/records/{record.id}").get_data(as_text=True)
    decision = f"已通过 · {when(record.decision.decided_at)} · {staff['reviewer'].name}"
    assert f"<dt>决定</dt><dd>{decision}</dd>" in decided
    assert '<a href="/district/records#recent-decisions">最近的审核决定</a>' in decided
    assert "待审核的共识记录" not in decided
    assert '<section id="decision"' not in decided
    queue = client.get("/district/records").get_data(as_text=True)
    assert '<h2 id="recent-decisions">最近的审核决定</h2>' in queue


def test_a_returned_record_s_review_page_says_it_was_returned(client, auth, consultation, staff):
    record = submitted_for_review(client, auth, consultation.compound, staff)
    client.post(
        f"/district/records/{record.id}/return",
        data={"reason_lifts": "2栋1单元表决率不足", "reopen_round": "3", "days": "7"},
    )
    db.session.rollback()
    page = client.get(f"/district/records/{record.id}").get_data(as_text=True)
    decision = f"已退回 · {when(record.decision.decided_at)} · {staff['reviewer'].name}"
    assert f"<dt>决定</dt><dd>{decision}</dd>" in page
    assert "2栋1单元表决率不足" in page
    assert "待审核的共识记录" not in page
