"""The world the role × route walk runs in: two compounds in two streets, a roster, cards, three rounds
with content in each, and one account of every staff role.

Compound A (草堂街道) is the compound every URL points at; compound B (少城街道) is where the "other"
resident and the "other" worker belong. ``build_world`` returns plain ids and secrets (no ORM objects), so
the walk can run each request in its own application context.

A *stage* puts the rounds of compound A where a group of routes needs them:

- ``needs``: round 1 (needs survey) open, rounds 2 and 3 in draft (the default);
- ``needs_published``: round 1's needs list published (notice period);
- ``schemes``: round 1 done, round 2 (schemes) open, a comment by the owner on its first item;
- ``vote``: rounds 1 and 2 done, round 3 (vote) open, the owner's online ballot cast and a paper ballot
  entered for another owner.

Whatever the stage, the world holds a survey with a question of the worker's own, a scheme with an item
and a document, the vote's standard questions and a proxy (李娜 authorises the owner 张伟), and an outbox
message, and version 1 of its consensus record (frozen as the data stands, awaiting review). Rounds are
put in their stage directly (as the other areas' fixtures do), not through the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from io import BytesIO

from PIL import Image
from sqlalchemy import select

from consult.auth.models import Role
from consult.auth.services import create_user
from consult.auth.services import reset_token
from consult.compounds.models import Building
from consult.compounds.models import Owner
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.dossier.services import Funding
from consult.dossier.services import freeze
from consult.experts.services import form_panel
from consult.extensions import db
from consult.notify.emails import unsubscribe_token
from consult.notify.models import NoticeKind
from consult.notify.models import OutboxStatus
from consult.notify.services import enqueue
from consult.residents.services import acknowledge_privacy
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.rules import RoundState
from consult.rounds.services import plan_default_rounds
from consult.schemes import services as schemes
from consult.surveys import services as surveys
from consult.surveys.rules import QuestionKind
from consult.voting import services as voting
from consult.voting.services import PaperValues

PASSWORD = "correct horse battery"
STAGES = ("needs", "needs_published", "schemes", "vote")

#: 张伟 (owner of 101) and 王芳 (tenant of 101) are the principals; 李娜 and 陈秀英 are bystanders whose
#: card, authority and paper ballot the walk may act on without touching a principal's session.
ROSTER_A = (
    "楼栋,单元,房号,建筑面积,业主姓名,联系电话,身份,业主编号,邮箱\n"
    "1,1,101,80.50,张伟,13812341234,业主,A1,zhang@example.test\n"
    "1,1,101,,王芳,13900001111,租户,,\n"
    "1,1,102,66.00,李娜,,业主,A2,\n"
    "2,1,201,90.25,陈秀英,,业主,A3,\n"
)
ROSTER_B = "楼栋,单元,房号,建筑面积,业主姓名,联系电话,身份,业主编号\n1,1,101,70.00,周建国,,业主,B1\n"

#: the staff principals: (e-mail, role, street: "a", "b" or None)
STAFF = {
    "worker": ("worker@example.test", Role.WORKER, "a"),
    "worker_other": ("worker.other@example.test", Role.WORKER, "b"),
    "reviewer": ("reviewer@example.test", Role.REVIEWER, None),
    "expert": ("expert@example.test", Role.EXPERT, None),
    "admin": ("admin@example.test", Role.ADMIN, None),
}


@dataclass
class World:
    stage: str
    compound: int
    compound_other: int
    building: int
    rounds: dict[int, int]  # round number -> id (compound A)
    #: principal -> e-mail (staff) and principal -> card token (residents)
    emails: dict[str, str]
    tokens: dict[str, str]
    #: every other id a URL may need; an id absent here does not exist in this world
    ids: dict[str, int | str] = field(default_factory=dict)


def png(colour: str = "white") -> bytes:
    out = BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, "PNG")
    return out.getvalue()


def _owner(compound_id: int, name: str) -> Owner:
    return db.session.scalars(select(Owner).where(Owner.compound_id == compound_id, Owner.name == name)).one()


def build_world(stage: str = "needs") -> World:
    """Build the world in the current application context's (empty) database, and commit it."""
    assert stage in STAGES, stage
    now = datetime.now(UTC)
    district = ensure_district("青羊区")
    street_a = ensure_street(district, "草堂街道")
    street_b = ensure_street(district, "少城街道")
    streets = {"a": street_a, "b": street_b, None: None}
    users = {
        who: create_user(email, who, PASSWORD, role, streets[street], actor="test")
        for who, (email, role, street) in STAFF.items()
    }
    target = create_user("target@example.test", "target", PASSWORD, Role.WORKER, street_a, actor="test")

    compound = create_compound(street_a, "浣花小区", actor="test")
    other = create_compound(street_b, "宽窄小区", actor="test")
    apply_rows(compound, parse_roster(ROSTER_A.encode()), "test")
    apply_rows(other, parse_roster(ROSTER_B.encode()), "test")
    cards = {
        (c.person.name, c.person.occupant is not None): c
        for c in issue_cards(card_people(compound), compound, "test", now)
    }
    [card_other] = issue_cards(card_people(other), other, "test", now)
    principals = {
        "resident": cards[("张伟", False)],
        "occupant": cards[("王芳", True)],
        "resident_other": card_other,
    }
    for card in principals.values():
        acknowledge_privacy(card.invitation, now)
    bystander = cards[("李娜", False)]
    zhang, li, chen = _owner(compound.id, "张伟"), _owner(compound.id, "李娜"), _owner(compound.id, "陈秀英")

    # the three rounds, built in draft (content can only be added then), put in their stage below
    needs, scheme_round, vote = plan_default_rounds(compound, now - timedelta(days=1), "test")
    survey = surveys.create_survey(needs, "test", now)
    question = surveys.add_question(
        survey,
        QuestionKind.SINGLE,
        "停车位够吗？",
        "Is there enough parking?",
        [("够", None), ("不够", None)],
        False,
        "test",
    )
    need = next(i for i in survey.items if i.category.value != "safety")
    scheme = schemes.add_scheme(scheme_round, "保留院落", "test", "在围墙边增加停车位")
    item = schemes.add_item(scheme.first, "屋面防水重做", "全部楼栋", "test")
    document = schemes.add_document(scheme.first, png(), "plan.png", "test", now)
    vote_questions = voting.add_standard_questions(vote, "test", now)
    proxy = voting.record_proxy(
        vote, li, proxy_owner=zhang, proxy_name="", photo=png("grey"), actor="test", now=now
    )
    message = enqueue(
        NoticeKind.ROUND_OPENED,
        "zhang@example.test",
        "zh_CN",
        {"compound": compound.name, "round_number": 1, "closes_at": now, "path": "/me"},
    )
    assert message is not None
    message.status = OutboxStatus.SENT  # a sent message may be sent again
    panel_expert = create_user("panel@example.test", "专家甲", PASSWORD, Role.EXPERT, None, actor="test")
    panel = form_panel(scheme_round, panel_expert, [panel_expert], users["reviewer"], path="/experts")

    ids: dict[str, int | str] = {
        "user": target.id,
        "invitation": bystander.invitation.id,
        "bystander_owner": li.id,
        "bystander_dwelling": li.dwellings[0].id,
        "paper_owner": chen.id,
        "survey_question": question.id,
        "need_code": need.code,
        "scheme": scheme.id,
        "item": item.id,
        "document": document.id,
        "vote_question": vote_questions[0].id,
        "proxy": proxy.id,
        "proxy_giver": li.id,
        "message": message.id,
        "unsubscribe": unsubscribe_token("zhang@example.test", "zh_CN"),
        "reset": reset_token(target),
        "token": bystander.token,
        "panel": panel.id,
        "panel_member": panel.members[0].id,
    }

    def open_(round_, since: timedelta = timedelta(days=1)) -> None:
        round_.state = RoundState.OPEN
        round_.opens_at, round_.closes_at = now - since, now + timedelta(days=14)

    if stage == "needs":
        open_(needs)
    elif stage == "needs_published":
        needs.state = RoundState.NOTICE
        needs.opens_at, needs.closes_at = now - timedelta(days=30), now - timedelta(days=2)
    elif stage == "schemes":
        needs.state = RoundState.DONE
        open_(scheme_round)
        resident = principals["resident"].invitation
        ids["comment"] = schemes.add_comment(resident, item, "希望保留老树", now).id
    elif stage == "vote":
        needs.state = scheme_round.state = RoundState.DONE
        open_(vote)
        resident = principals["resident"].invitation
        db.session.flush()
        mine = {q.id: q.choices[0] for q in voting.owner_questions(vote, zhang.id)}
        ids["receipt"] = voting.cast_online(vote, resident, mine, now).code
        theirs = {q.id: q.choices[0] for q in voting.owner_questions(vote, chen.id)}
        values = PaperValues(signed_on=now.date(), choices=theirs)
        ids["sheet"] = voting.enter_paper(vote, chen, values, png("ivory"), users["worker"], now).id
    db.session.flush()
    record = freeze(compound, Funding(), "test", now)  # version 1, awaiting the district review
    ids["record"] = record.id
    ids["record_version"] = record.version
    db.session.commit()

    building = db.session.scalars(
        select(Building.id).where(Building.compound_id == compound.id, Building.label == "1")
    ).one()
    return World(
        stage=stage,
        compound=compound.id,
        compound_other=other.id,
        building=building,
        rounds={1: needs.id, 2: scheme_round.id, 3: vote.id},
        emails={who: email for who, (email, _role, _street) in STAFF.items()},
        tokens={who: card.token for who, card in principals.items()},
        ids=ids,
    )
