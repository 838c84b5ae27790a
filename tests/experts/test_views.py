import pytest

from consult.experts import services
from consult.experts.rules import CriterionSpec
from consult.extensions import db
from consult.notify.models import OutboxMessage


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
    assert page.status_code == 403
    assert "SECOND-EXPERT-NOTE" not in client.get(f"/experts/panels/{panel.id}").get_data(as_text=True)
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
    auth.login(experts[0])  # the chair closes
    assert client.post(f"/experts/panels/{panel.id}/close").status_code == 302
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
