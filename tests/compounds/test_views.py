"""Staff pages: what each role sees, and that a worker never sees another street's compound."""

from __future__ import annotations

import pytest

from consult.auth.models import Role


def test_anonymous_is_sent_to_login(client, compound):
    response = client.get(f"/compounds/{compound.id}")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_worker_sees_own_street_only(client, auth, create_compound, other_street, worker):
    mine = create_compound("浣花小区")
    theirs = create_compound("方池街15号院", street_=other_street)
    auth.login(worker)
    dashboard = client.get("/compounds/").get_data(as_text=True)
    assert "浣花小区" in dashboard
    assert "方池街15号院" not in dashboard
    assert client.get(f"/compounds/{mine.id}").status_code == 200
    for path in (
        f"/compounds/{theirs.id}",
        f"/compounds/{theirs.id}/roster",
        f"/compounds/{theirs.id}/buildings/1",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "方池街15号院" not in response.get_data(as_text=True)
    response = client.post(f"/compounds/{theirs.id}/roster/apply", data={"import_id": "1"})
    assert response.status_code == 404


def test_reviewer_sees_every_compound_but_cannot_import(
    client, auth, create_user, create_compound, other_street
):
    a = create_compound("浣花小区")
    b = create_compound("方池街15号院", street_=other_street)
    reviewer = create_user("reviewer@example.test", Role.REVIEWER)
    auth.login(reviewer)
    dashboard = client.get("/compounds/").get_data(as_text=True)
    assert "浣花小区" in dashboard
    assert "方池街15号院" in dashboard
    assert client.get(f"/compounds/{b.id}").status_code == 200
    assert client.get(f"/compounds/{a.id}/roster").status_code == 403


def test_expert_sees_no_compound_outside_a_panel(client, auth, create_user, compound):
    expert = create_user("expert@example.test", Role.EXPERT)
    auth.login(expert)
    assert compound.name not in client.get("/compounds/").get_data(as_text=True)
    assert client.get(f"/compounds/{compound.id}").status_code == 404


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_post_without_csrf_token_is_refused(client, worker):
    response = client.post("/auth/login", data={"email": worker.email, "password": "x" * 12})
    assert response.status_code == 400


def test_the_compound_shows_the_stage_its_rounds_are_at_as_the_district_does(client, auth, compound, worker):
    from datetime import UTC
    from datetime import datetime
    from datetime import timedelta

    from consult.extensions import db
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows
    from consult.rounds.rules import Action
    from consult.rounds.services import apply
    from consult.rounds.services import plan_default_rounds

    roster = "楼栋,单元,房号,建筑面积,业主姓名,身份\n1,1,101,80,张伟,业主\n1,1,102,70,,业主\n"
    apply_rows(compound, parse_roster(roster.encode()), "test")  # one dwelling without its owner yet
    start = datetime.now(UTC) - timedelta(days=1)
    first = plan_default_rounds(compound, start, "test")[0]
    db.session.commit()
    auth.login(worker)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Roster incomplete" in client.get("/compounds/").get_data(as_text=True)
    apply(first, Action.OPEN, "test", start + timedelta(hours=1))
    db.session.commit()
    for path in ("/compounds/", f"/compounds/{compound.id}", f"/p/{compound.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "Round 1 open" in page, path
        assert "Roster incomplete" not in page, path


def test_the_compound_page_says_the_next_step_at_every_stage(
    client, auth, create_compound, create_user, street
):
    from datetime import UTC
    from datetime import datetime
    from datetime import timedelta

    from consult import register_round_content
    from consult.auth.models import Role
    from consult.dossier.sample import DAYS_BEFORE
    from consult.dossier.sample import Stage
    from consult.dossier.sample import run_consultation
    from consult.extensions import db
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows
    from consult.rounds.rules import Action
    from consult.rounds.services import apply
    from consult.rounds.services import repeat
    from tests.dossier.conftest import ROSTER

    register_round_content()
    worker = create_user("worker@example.test", Role.WORKER, street)
    reviewer = create_user("reviewer@example.test", Role.REVIEWER, None)
    experts = [create_user(f"e{n}@example.test", Role.EXPERT, None) for n in (1, 2)]
    expected: dict[str, tuple[str, str]] = {}  # compound id → (the step's words, the page it leads to)

    def compound_with(roster: str | None, name: str):
        compound = create_compound(name)
        if roster:
            apply_rows(compound, parse_roster(roster.encode()), "test")
        return compound

    c = compound_with(None, "没有名册")
    expected[c.id] = ("Import the household roster", f"/compounds/{c.id}/roster")
    c = compound_with(
        "楼栋,单元,房号,建筑面积,业主姓名,身份\n1,1,101,80,张伟,业主\n1,1,102,70,,业主\n", "名册不全"
    )
    expected[c.id] = ("Some dwellings have no known owner yet", f"/compounds/{c.id}/rounds")
    c = compound_with(ROSTER, "名册齐全")
    expected[c.id] = ("Plan the rounds and open round 1", f"/compounds/{c.id}/rounds")
    steps = {
        Stage.NEEDS_OPEN: ("Round 1 takes answers until", "participation"),
        Stage.NEEDS_NOTICE: ("Round 1's answer is on public notice until", "rounds"),
        Stage.SCHEMES_OPEN: ("Round 2 takes answers until", "participation"),
        Stage.VOTE_OPEN: ("The vote (round 3) is open until", "vote"),
        Stage.VOTE_CLOSED: ("Round 3 has closed: prepare its answer", "rounds"),
        Stage.RESULT_NOTICE: ("assemble the consensus record and submit it", "record"),
        Stage.SUBMITTED: ("The consensus record is waiting for the district review", "record"),
        Stage.APPROVED: ("the consultation is complete", "record"),
    }
    now = datetime.now(UTC)
    for stage, (words, page) in steps.items():
        c = compound_with(ROSTER, stage.name)
        done = run_consultation(
            c, now - timedelta(days=DAYS_BEFORE[stage]), worker, reviewer, experts, turnout=1.0, until=stage
        )
        current = next(r for r in done.rounds if r.state.value != "done") if stage < Stage.APPROVED else None
        link = {
            "participation": f"/compounds/{c.id}/rounds/{current.id}/participation" if current else "",
            "vote": f"/compounds/{c.id}/votes/{current.id}" if current else "",
            "rounds": f"/compounds/{c.id}/rounds",
            "record": f"/compounds/{c.id}/record",
        }[page]
        expected[c.id] = (words, link)
    c = compound_with(ROSTER, "否决")  # the plan voted down: the vote failed, held again
    start = now - timedelta(days=DAYS_BEFORE[Stage.VOTE_CLOSED])
    vote = run_consultation(c, start, worker, reviewer, experts, turnout=1.0, yes_share=0.2).rounds[2]
    apply(vote, Action.FAIL, "test", vote.closes_at + timedelta(hours=1), "the plan was voted down")
    repeat(vote, "test", vote.closes_at + timedelta(hours=2))
    expected[c.id] = ("The vote (round 3) failed: hold it again", f"/compounds/{c.id}/rounds")
    db.session.commit()
    auth.login(worker)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for compound_id, (words, link) in expected.items():
        html = client.get(f"/compounds/{compound_id}").get_data(as_text=True)
        step = html.split('<section class="next-step"', 1)[1].split("</section>", 1)[0]
        assert words in step, compound_id
        assert f'<a href="{link}">' in step, compound_id
        assert client.get(link).status_code == 200
    # a district reviewer reads the step as the workers' (with no link to a page only they may open)
    auth.logout()
    auth.login(reviewer)
    no_roster = next(cid for cid, (words, _link) in expected.items() if words.startswith("Import"))
    html = client.get(f"/compounds/{no_roster}").get_data(as_text=True)
    step = html.split('<section class="next-step"', 1)[1].split("</section>", 1)[0]
    assert "Next step, for the compound's community workers" in step
    assert "Import the household roster" in step
    assert "/roster" not in step
