"""The list of every resident page, walked by the accessibility test (axe in Chromium, both languages, both
type sizes, at 360 px) and by the page-weight test. A resident route left out of this list fails
``tests/test_resident_pages.py``.

Each page is reached in the world of ``tests/security/access_world.py`` at one stage of the rounds, as one
visitor: anonymous, the bystander 李娜 (who has not read the privacy notice), or the owner 张伟.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from consult.extensions import db
from consult.rounds.models import Round
from consult.rounds.rules import RoundState
from consult.schemes import services as schemes
from tests.security.access_world import World
from tests.security.access_world import build_world

#: the order visitors come in on one browser: the public first, then the card holders
VISITORS = ("anonymous", "bystander", "resident")


@dataclass(frozen=True)
class ResidentPage:
    name: str
    endpoint: str
    stage: str
    visitor: str
    path: Callable[[World], str]
    #: send the page's form empty: the page again, with its errors next to the fields and at the top
    submit: bool = False
    status: int = 200
    #: where the form posts, when not to the page itself
    action: Callable[[World], str] | None = None


def _p(name, endpoint, stage, visitor, path, **kw) -> ResidentPage:  # type: ignore[no-untyped-def]
    return ResidentPage(name, endpoint, stage, visitor, path, **kw)


def _digest(world: World) -> str:
    from consult.dossier.models import ConsensusRecord

    record = db.session.get(ConsensusRecord, world.ids["record"])
    assert record is not None
    return record.digest


PAGES: list[ResidentPage] = [
    # coming in
    _p("enter-code", "residents.enter_code", "needs", "anonymous", lambda w: "/code"),
    _p(
        "enter-code-errors",
        "residents.enter_code",
        "needs",
        "anonymous",
        lambda w: "/code",
        submit=True,
        status=422,
    ),
    _p(
        "enter-code-compound",
        "residents.enter_code_for",
        "needs",
        "anonymous",
        lambda w: f"/p/{w.compound}/code",
    ),
    _p("public-notice", "public.notice", "needs", "anonymous", lambda w: f"/p/{w.compound}"),
    # checking a printed consensus record: the form, and a digest that matches the record of the world
    _p("verify", "dossier.verify", "needs", "anonymous", lambda w: "/verify"),
    _p("verify-found", "dossier.verify", "needs", "anonymous", lambda w: f"/verify?digest={_digest(w)}"),
    _p(
        "unsubscribe",
        "notify.unsubscribe",
        "needs",
        "anonymous",
        lambda w: f"/notify/unsubscribe/{w.ids['unsubscribe']}",
    ),
    _p("privacy", "residents.home", "needs", "bystander", lambda w: "/me"),
    # round 1: the survey
    _p("home", "residents.home", "needs", "resident", lambda w: "/me"),
    _p("survey", "surveys.answer", "needs", "resident", lambda w: f"/me/survey/{w.rounds[1]}"),
    _p(
        "survey-errors",
        "surveys.answer",
        "needs",
        "resident",
        lambda w: f"/me/survey/{w.rounds[1]}",
        submit=True,
        status=422,
    ),
    _p("survey-paper", "paper.my_survey", "needs", "resident", lambda w: f"/me/survey/{w.rounds[1]}/print"),
    _p("not-found", "errors.404", "needs", "resident", lambda w: "/me/survey/987654", status=404),
    _p(
        "survey-closed",
        "surveys.answer",
        "needs_published",
        "resident",
        lambda w: f"/me/survey/{w.rounds[1]}",
    ),
    _p(
        "needs", "surveys.resident_needs", "needs_published", "resident", lambda w: f"/me/needs/{w.rounds[1]}"
    ),
    _p(
        "public-needs",
        "surveys.public_needs",
        "needs_published",
        "anonymous",
        lambda w: f"/p/{w.compound}/needs",
    ),
    # round 2: the schemes, comments and the preference
    _p("schemes", "schemes.resident_round", "schemes", "resident", lambda w: f"/me/schemes/{w.rounds[2]}"),
    _p(
        "comment-errors",
        "schemes.comment",
        "schemes",
        "resident",
        lambda w: f"/me/schemes/{w.rounds[2]}",
        submit=True,
        status=422,
        action=lambda w: f"/me/schemes/{w.rounds[2]}/items/{w.ids['item']}/comments",
    ),
    _p(
        "public-answers",
        "schemes.public_answers",
        "schemes",
        "anonymous",
        lambda w: f"/p/{w.compound}/answers/{w.rounds[2]}",
    ),
    # round 3: the vote
    _p("ballot", "voting.ballot", "vote", "resident", lambda w: f"/me/vote/{w.rounds[3]}"),
    _p(
        "ballot-proxy-errors",
        "voting.ballot_for",
        "vote",
        "resident",
        lambda w: f"/me/vote/{w.rounds[3]}/for/{w.ids['proxy_giver']}",
        submit=True,
        status=422,
    ),
    _p(
        "receipt",
        "voting.receipt",
        "vote",
        "resident",
        lambda w: f"/me/vote/{w.rounds[3]}/receipt/{w.ids['receipt']}",
    ),
    _p("ballot-paper", "paper.my_ballot", "vote", "resident", lambda w: f"/me/vote/{w.rounds[3]}/print"),
    _p(
        "result",
        "voting.public_result",
        "vote",
        "anonymous",
        lambda w: f"/p/{w.compound}/result/{w.rounds[3]}",
    ),
    _p(
        "receipts",
        "voting.public_receipts",
        "vote",
        "anonymous",
        lambda w: f"/p/{w.compound}/receipts/{w.rounds[3]}",
    ),
]

STAGES = sorted({p.stage for p in PAGES}, key=["needs", "needs_published", "schemes", "vote"].index)

#: routes a resident may reach that are no page of their own, and why they are not walked
NOT_PAGES = {
    "index": "sends the visitor on to the code page or their home",
    "favicon": "the site's icon: there is none (204)",
    "residents.enter_link": "the card's link: signs the resident in and sends them on",
    "residents.acknowledge": "a button (POST) on the privacy notice",
    "residents.leave": "a button (POST)",
    "i18n.switch": "a button (POST) in the header",
    "i18n.toggle_large_type": "a button (POST) in the header",
    "schemes.prefer": "a form (POST) on the schemes page, walked there",
    "schemes.document": "a drawing (an image file), linked from the schemes page",
    "public.poster": "the A4 poster a worker prints for the notice board (fixed paper width)",
    "public.poster_pdf": "the same poster as a PDF",
    "auth.login": "the staff sign-in page",
    "auth.forgot": "staff: asking for a new-password link (walked with the staff pages)",
    "auth.reset": "staff: the page a new-password link opens (walked with the staff pages)",
}


def pages_of(stage: str) -> list[ResidentPage]:
    """The pages of one stage, in the order a browser walks them (the public, then the card holders)."""
    return sorted((p for p in PAGES if p.stage == stage), key=lambda p: VISITORS.index(p.visitor))


def resident_world(stage: str) -> World:
    """The access world at this stage; in the schemes stage, a second scheme so that residents choose one."""
    world = build_world(stage)
    if stage == "schemes":
        round_ = db.session.get(Round, world.rounds[2])
        assert round_ is not None
        state, round_.state = round_.state, RoundState.DRAFT
        schemes.add_item(
            schemes.add_scheme(round_, "拆除违建", "test", "拆除违建，增加绿地").first, "绿化", "", "test"
        )
        round_.state = state
        db.session.commit()
    return world


def token_of(world: World, visitor: str) -> str | None:
    if visitor == "resident":
        return world.tokens["resident"]
    if visitor == "bystander":
        return str(world.ids["token"])
    return None
