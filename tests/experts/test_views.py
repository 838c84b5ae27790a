import re

import pytest

from consult.db import utcnow
from consult.experts import services
from consult.experts.rules import CriterionSpec
from consult.experts.rules import Verdict
from consult.extensions import db
from consult.notify.models import OutboxMessage
from consult.rounds.rules import RoundState
from consult.schemes import services as schemes_services


@pytest.fixture
def panel(scheme_round, experts, reviewer):
    panel = services.form_panel(scheme_round, experts[0], experts[:3], reviewer)
    services.set_rubric(
        panel,
        [CriterionSpec("safety", "安全", "Safety", 60), CriterionSpec("cost", "造价", "Cost", 40)],
        reviewer,
    )
    db.session.commit()
    return panel


def score_by_post(client, panel, scheme, safety: int, cost: int, comment: str):
    ids = {c.key: c.id for c in panel.criteria}
    client.post(f"/experts/panels/{panel.id}/schemes/{scheme.id}/conflict", data={"declared": "no"})
    return client.post(
        f"/experts/panels/{panel.id}/schemes/{scheme.id}/score",
        data={
            f"value_{ids['safety']}": safety,
            f"comment_{ids['safety']}": comment,
            f"value_{ids['cost']}": cost,
            f"comment_{ids['cost']}": "",
        },
    )


@pytest.fixture(autouse=True)
def english_pages(client):
    """These tests read the pages in English (the default is Chinese)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_reviewer_forms_panel_and_members_are_invited(client, auth, scheme_round, experts, reviewer) -> None:
    auth.login(reviewer)
    assert client.get(f"/experts/rounds/{scheme_round.id}/panels/new").status_code == 200
    ids = [e.id for e in experts[:2]]
    response = client.post(
        f"/experts/rounds/{scheme_round.id}/panels/new",
        data={"members": ids, "chair": ids[0], "aggregation": "trimmed_mean"},
    )
    assert response.status_code == 302
    assert db.session.query(OutboxMessage).filter_by(kind="panel_invitation").count() == 2


def test_expert_cannot_form_panel(client, auth, scheme_round, experts) -> None:
    auth.login(experts[0])
    assert client.get(f"/experts/rounds/{scheme_round.id}/panels/new").status_code == 403


def test_panel_not_on_is_404(client, auth, panel, experts) -> None:
    auth.login(experts[4])  # not a member
    scheme = services.schemes_of(panel)[0]
    assert client.get(f"/experts/panels/{panel.id}").status_code == 404
    assert client.get(f"/experts/panels/{panel.id}/results").status_code == 404
    assert client.get(f"/experts/panels/{panel.id}/schemes/{scheme.id}/score").status_code == 404
    assert client.get("/experts/panels/99999").status_code == 404
    assert f"/experts/panels/{panel.id}" not in client.get("/experts").get_data(as_text=True)


def test_scores_hidden_until_submitted(client, auth, panel, experts) -> None:
    first, second = experts[0], experts[1]
    schemes = services.schemes_of(panel)
    auth.login(second)
    for scheme in schemes:
        assert score_by_post(client, panel, scheme, 3, 4, "SECOND-EXPERT-NOTE").status_code == 302
    assert client.post(f"/experts/panels/{panel.id}/submit").status_code == 302
    auth.logout()

    auth.login(first)
    assert score_by_post(client, panel, schemes[0], 9, 9, "first").status_code == 302
    page = client.get(f"/experts/panels/{panel.id}/results")
    assert page.status_code == 302  # back to the panel, which says why
    assert page.headers["Location"].endswith(f"/experts/panels/{panel.id}")
    told = client.get(f"/experts/panels/{panel.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "once you have submitted your scores" in told
    assert "SECOND-EXPERT-NOTE" not in told
    # own score page shows only their own scores
    own = client.get(f"/experts/panels/{panel.id}/schemes/{schemes[0].id}/score").get_data(as_text=True)
    assert "SECOND-EXPERT-NOTE" not in own
    score_by_post(client, panel, schemes[1], 8, 8, "first")
    assert client.post(f"/experts/panels/{panel.id}/submit").status_code == 302
    page = client.get(f"/experts/panels/{panel.id}/results")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "SECOND-EXPERT-NOTE" in html
    assert "<svg" in html
    assert "style=" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    # scheme A: safety (3+9)/2 = 6, cost (4+9)/2 = 13/2 → 36 + 26 = 62.00
    assert "62.00" in html
    # safety on A: scores 3 and 9, variance 9 > 1.5² → flagged
    assert "Wide disagreement" in html


def test_no_changes_after_close(client, auth, panel, experts) -> None:
    scheme = services.schemes_of(panel)[0]
    auth.login(experts[1])
    score_by_post(client, panel, scheme, 5, 5, "before")
    auth.logout()
    auth.login(experts[0])  # the chair closes, once the box is ticked
    client.post(f"/experts/panels/{panel.id}/close")
    db.session.expire_all()
    assert not panel.closed  # not without the box
    assert client.post(f"/experts/panels/{panel.id}/close", data={"confirm": "y"}).status_code == 302
    auth.logout()
    auth.login(experts[1])
    score_by_post(client, panel, scheme, 1, 1, "after")
    member = services.member_of(panel, experts[1])
    assert {s.value for s in services.scores_by(member, scheme).values()} == {5}


def test_chair_writes_opinion(client, auth, panel, experts) -> None:
    scheme = services.schemes_of(panel)[0]
    url = f"/experts/panels/{panel.id}/schemes/{scheme.id}/opinion"
    auth.login(experts[1])
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login(experts[0])
    assert client.get(url).status_code == 200
    response = client.post(url, data={"verdict": "with_changes", "required_changes": "Widen the path"})
    assert response.status_code == 302
    assert services.opinion_on(panel, scheme).required_changes == "Widen the path"


def png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (64, 48), "white").save(out, "PNG")
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def status_of(client, url: str) -> int:
    with client.get(url) as response:
        return response.status_code


@pytest.fixture
def documents(scheme_round):
    scheme = schemes_services.schemes_of(scheme_round)[0]
    schemes_services.add_item(scheme.latest, "North lift shaft", "Steel frame", "test")
    drawing = schemes_services.add_document(scheme.latest, png(), "elevation.png", "test", utcnow())
    report = schemes_services.add_document(scheme.latest, PDF, "structure.pdf", "test", utcnow())
    db.session.commit()
    return scheme, drawing, report


def test_score_sheet_beside_the_schemes_documents(client, auth, panel, experts, documents) -> None:
    scheme, drawing, report = documents
    auth.login(experts[1])
    client.post(f"/experts/panels/{panel.id}/schemes/{scheme.id}/conflict", data={"declared": "no"})
    html = client.get(f"/experts/panels/{panel.id}/schemes/{scheme.id}/score").get_data(as_text=True)
    pane, sheet = html.split('class="side-by-side"', 1)[1].split('aria-labelledby="sheet-heading"', 1)
    assert "North lift shaft" in pane
    assert f'<img src="/schemes/documents/{drawing.id}"' in pane
    assert f'href="/schemes/documents/{report.id}" target="_blank" rel="noopener"' in pane
    assert "<iframe" not in html
    assert 'name="value_' in sheet
    # each criterion says its scale and its weight in the panel's total
    assert "Safety (0–10; weight 60)" in sheet
    assert "Cost (0–10; weight 40)" in sheet
    # the panel's experts may open the scheme's documents; an expert on no panel may not
    assert status_of(client, f"/schemes/documents/{drawing.id}") == 200
    assert status_of(client, f"/schemes/documents/{report.id}") == 200
    auth.logout()
    auth.login(experts[4])
    assert status_of(client, f"/schemes/documents/{drawing.id}") == 404


def test_round_page_links_the_panel(client, auth, scheme_round, compound, experts, reviewer, worker) -> None:
    url = f"/compounds/{compound.id}/rounds/{scheme_round.id}/schemes"
    auth.login(reviewer)
    assert f"/experts/rounds/{scheme_round.id}/panels/new" in client.get(url).get_data(as_text=True)
    panel = services.form_panel(scheme_round, experts[0], experts[:2], reviewer)
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert f"/experts/panels/{panel.id}" in html
    assert "/panels/new" not in html
    # a second panel on the round is not formed: the form sends to the panel
    response = client.get(f"/experts/rounds/{scheme_round.id}/panels/new")
    assert response.headers["Location"].endswith(f"/experts/panels/{panel.id}")
    auth.logout()
    auth.login(worker)
    html = client.get(url).get_data(as_text=True)
    assert "An expert panel scores the schemes of this round." in html
    assert "/panels/new" not in html


def test_experts_home_lists_their_panels(client, auth, panel, experts) -> None:
    auth.login(experts[1])
    assert client.get("/").headers["Location"].endswith("/experts")
    assert f"/experts/panels/{panel.id}" in client.get("/experts").get_data(as_text=True)


def test_representative_remarks_and_the_chair_grants_a_score(
    client, auth, scheme_round, experts, reviewer
) -> None:
    panel = services.form_panel(
        scheme_round, experts[0], experts[:2], reviewer, resident_representatives=[experts[3]]
    )
    db.session.commit()
    rep = services.member_of(panel, experts[3])
    scheme = services.schemes_of(panel)[0]
    auth.login(experts[3])
    page = client.get(f"/experts/panels/{panel.id}").get_data(as_text=True)
    assert "a say, no score" in page
    assert f"/schemes/{scheme.id}/conflict" not in page
    url = f"/experts/panels/{panel.id}/schemes/{scheme.id}/remark"
    assert client.post(url, data={"body": "Keep the bike shed"}).status_code == 302
    assert services.remark_of(rep, scheme).body == "Keep the bike shed"
    assert client.post(f"/experts/panels/{panel.id}/members/{rep.id}/score").status_code == 403
    auth.logout()
    auth.login(experts[0])  # the chair
    assert client.post(f"/experts/panels/{panel.id}/members/{rep.id}/score").status_code == 302
    db.session.rollback()
    assert services.member_of(panel, experts[3]).scores


def test_round_two_answer_shows_the_panels_conclusion_without_names(
    client, auth, panel, scheme_round, compound, experts, reviewer
) -> None:
    for member in panel.members[:2]:
        auth.login(member.user)
        for scheme in services.schemes_of(panel):
            score_by_post(client, panel, scheme, 8 if scheme.label == "A" else 6, 5, "")
        client.post(f"/experts/panels/{panel.id}/submit")
        auth.logout()
    a = services.schemes_of(panel)[0]
    services.write_opinion(panel, a, experts[0], Verdict.RECOMMEND_WITH_CHANGES, "Move the bins")
    db.session.commit()
    scheme_round.state = RoundState.NOTICE
    db.session.commit()
    answers = f"/p/{compound.id}/answers/{scheme_round.id}"
    assert "Move the bins" not in client.get(answers).get_data(as_text=True)  # the panel is still open
    services.close(panel, reviewer)
    db.session.commit()
    for url in (answers, f"/p/{compound.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "The expert panel's opinion" in html
        assert "Recommend with changes" in html
        assert "Move the bins" in html
        # A: 60·8/10 + 40·5/10 = 68; B: 36 + 20 = 56
        assert "68.00" in html
        assert "56.00" in html
        assert all(e.name not in html for e in experts)


def test_rubric_weights_and_scales_set_before_scoring(client, auth, scheme_round, experts, reviewer) -> None:
    panel = services.form_panel(scheme_round, experts[0], experts[:2], reviewer)
    db.session.commit()
    auth.login(reviewer)
    url = f"/experts/panels/{panel.id}/rubric"
    assert "Scale of Safety (highest score)" in client.get(url).get_data(as_text=True)
    weights = dict(zip([c.id for c in panel.criteria], [30, 20, 20, 10, 10, 10], strict=True))
    form = {f"weight_{cid}": w for cid, w in weights.items()}
    form.update({f"scale_{cid}": 10 for cid in weights})
    form[f"scale_{panel.criteria[0].id}"] = 5
    assert client.post(url, data=form).status_code == 302
    db.session.rollback()
    panel = db.session.get(type(panel), panel.id)
    assert [(c.key, c.weight, c.scale) for c in panel.criteria][:2] == [
        ("safety", 30, 5),
        ("function", 20, 10),
    ]
    services.freeze_rubric(panel, reviewer)
    db.session.commit()
    form[f"weight_{panel.criteria[0].id}"] = 25
    form[f"weight_{panel.criteria[1].id}"] = 25
    client.post(url, data=form)
    db.session.rollback()
    assert db.session.get(type(panel), panel.id).criteria[0].weight == 30  # frozen


def test_rubric_criteria_removed_and_added_in_the_form(client, auth, scheme_round, experts, reviewer) -> None:
    panel = services.form_panel(scheme_round, experts[0], experts[:2], reviewer)
    db.session.commit()
    auth.login(reviewer)
    url = f"/experts/panels/{panel.id}/rubric"
    ids = [c.id for c in panel.criteria]
    form = {f"weight_{cid}": w for cid, w in zip(ids, [40, 30, 10, 10, 5, 5], strict=True)}
    form.update({f"scale_{cid}": 10 for cid in ids})
    form.update({f"remove_{ids[4]}": "y", f"remove_{ids[5]}": "y"})  # 10 points freed …
    form.update(
        {"new_name_zh": "邻里影响", "new_name_en": "", "new_weight": "10"}
    )  # … and given to a new one
    assert client.post(url, data=form).status_code == 302
    db.session.rollback()
    panel = db.session.get(type(panel), panel.id)
    assert [(c.key, c.name_en, c.weight) for c in panel.criteria] == [
        ("safety", "Safety", 40),
        ("function", "Function", 30),
        ("cost", "Cost", 10),
        ("feasibility", "Feasibility", 10),
        ("criterion1", "邻里影响", 10),
    ]


def test_rubric_new_criterion_needs_name_and_weight(client, auth, scheme_round, experts, reviewer) -> None:
    panel = services.form_panel(scheme_round, experts[0], experts[:2], reviewer)
    db.session.commit()
    auth.login(reviewer)
    url = f"/experts/panels/{panel.id}/rubric"
    form = {f"weight_{c.id}": c.weight for c in panel.criteria}
    form.update({f"scale_{c.id}": c.scale for c in panel.criteria})
    form["new_name_en"] = "Neighbours"
    response = client.post(url, data=form, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "A new criterion needs its name in Chinese and its weight." in response.get_data(as_text=True)
    db.session.rollback()
    assert len(db.session.get(type(panel), panel.id).criteria) == 6


def test_the_submit_button_shows_once_every_scheme_is_scored(client, auth, panel, experts) -> None:
    schemes = services.schemes_of(panel)
    auth.login(experts[1])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    before = client.get(f"/experts/panels/{panel.id}").get_data(as_text=True)
    assert "Score every scheme on every criterion" in before
    assert "Submit my scores" not in before
    score_by_post(client, panel, schemes[0], 3, 4, "first")
    assert "Submit my scores" not in client.get(f"/experts/panels/{panel.id}").get_data(as_text=True)
    score_by_post(client, panel, schemes[1], 3, 4, "second")
    after = client.get(f"/experts/panels/{panel.id}").get_data(as_text=True)
    assert "Submit my scores" in after
    assert "Score every scheme on every criterion" not in after


def test_the_chair_reopens_the_panel_once_the_round_is_reopened(
    client, auth, panel, experts, reviewer
) -> None:
    from datetime import timedelta

    from consult.rounds.services import reopen

    closed_at = utcnow() - timedelta(days=2)
    services.close(panel, experts[0], closed_at)
    db.session.commit()
    url = f"/experts/panels/{panel.id}/reopen"
    data = {"reason": "Scheme A was revised", "confirm": "y"}
    auth.login(experts[1])  # a member, not the chair
    assert client.post(url, data=data).status_code == 403
    auth.logout()

    auth.login(experts[0])
    page = client.get(f"/experts/panels/{panel.id}").get_data(as_text=True)
    assert url not in page  # no reopening form
    refused = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    assert "reopened only while its round" in refused  # the round was not reopened
    db.session.expire_all()
    assert panel.closed

    panel.round.state = RoundState.NOTICE
    reopen(panel.round, "user:review", closed_at + timedelta(days=1), utcnow() + timedelta(days=7), "revise")
    db.session.commit()
    assert url in client.get(f"/experts/panels/{panel.id}").get_data(as_text=True)
    client.post(url, data={"reason": "Scheme A was revised"})  # the box not ticked
    client.post(url, data={"confirm": "y"})  # no reason
    db.session.expire_all()
    assert panel.closed
    page = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    db.session.expire_all()
    assert not panel.closed
    assert "The panel is reopened" in page
    assert f"by {experts[0].name}" in page
    assert "Scheme A was revised" in page
    assert url not in page
    auth.logout()

    auth.login(experts[1])  # may score again
    scheme = services.schemes_of(panel)[0]
    assert score_by_post(client, panel, scheme, 4, 4, "revised").status_code == 302
    member = services.member_of(panel, experts[1])
    assert {s.value for s in services.scores_by(member, scheme).values()} == {4}


def test_the_opinion_is_written_after_the_close_not_after_the_answers(client, auth, panel, experts) -> None:
    scheme = services.schemes_of(panel)[0]
    url = f"/experts/panels/{panel.id}/schemes/{scheme.id}/opinion"
    auth.login(experts[0])
    page = client.get(f"/experts/panels/{panel.id}").get_data(as_text=True)
    assert "The chair may still write or change the panel's opinion until the round's answers" in page
    services.close(panel, experts[0])
    db.session.commit()
    assert client.post(url, data={"verdict": "recommend"}).status_code == 302
    assert services.opinion_on(panel, scheme).verdict is Verdict.RECOMMEND
    panel.round.state = RoundState.NOTICE
    db.session.commit()
    assert url not in client.get(f"/experts/panels/{panel.id}").get_data(as_text=True)
    page = client.post(url, data={"verdict": "not_recommend"}, follow_redirects=True).get_data(as_text=True)
    assert "can no longer change" in page
    db.session.rollback()
    assert services.opinion_on(panel, scheme).verdict is Verdict.RECOMMEND


def test_the_conflict_page_shows_what_was_declared(client, auth, panel, experts) -> None:
    scheme = services.schemes_of(panel)[1]
    auth.login(experts[0])
    url = f"/experts/panels/{panel.id}/schemes/{scheme.id}/conflict"
    assert client.post(url, data={"declared": "yes", "reason": "MY-FIRM-BID"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'<input checked id="declared-1"[^>]*value="yes"|value="yes"[^>]*checked', page)
    assert "MY-FIRM-BID" in page
