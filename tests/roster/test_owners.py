"""Owners corrected by hand: two key-less owners of one name merged into one person, a dwelling separated
from an owner who is not its owner; each recorded with its reason, each kept by a new import."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy import text

from consult.audit.models import AuditEntry
from consult.auth.models import Role
from consult.compounds.models import Compound
from consult.compounds.models import Owner
from consult.compounds.models import OwnerKind
from consult.extensions import db
from consult.residents.models import Invitation
from consult.residents.models import RevokeReason
from consult.residents.services import card_people
from consult.residents.services import find_by_token
from consult.residents.services import issue_cards
from consult.roster.owners import OwnerFacts
from consult.roster.owners import OwnerRefused
from consult.roster.owners import history
from consult.roster.owners import merge_owners
from consult.roster.owners import merge_refusal
from consult.roster.owners import namesake_count
from consult.roster.owners import namesakes
from consult.roster.owners import place
from consult.roster.owners import same_name_owners
from consult.roster.owners import separate_dwelling
from consult.roster.owners import separation_refusal
from consult.roster.parse import parse_roster
from consult.roster.services import RosterFrozen
from consult.roster.services import import_file
from consult.roster.services import plan_rows
from consult.rounds.rules import RoundState
from consult.rounds.services import plan_default_rounds
from consult.schemes.models import SchemeComment
from consult.schemes.rules import AuthorRole
from consult.schemes.services import add_item
from consult.schemes.services import add_scheme
from tests.roster.test_services import count
from tests.roster.test_services import counts
from tests.roster.test_services import dwelling_at
from tests.roster.test_services import owner_of
from tests.roster.test_services import roster

NOW = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)

#: 张伟 three times without a key (the one in 2-1-201 gives an e-mail only), 李娜 with a key twice
ROSTER = roster(
    ["1栋", "1单元", "101", "85.5", "张伟", "13800138000", "", ""],
    ["1栋", "1单元", "102", "70", "张伟", "", "", ""],
    ["2栋", "1单元", "201", "60.25", "张伟", "", "", ""],
    ["2栋", "1单元", "202", "66", "李娜", "", "", "K9"],
    ["2栋", "1单元", "203", "67", "李娜", "", "", "K9"],
    ["2栋", "1单元", "204", "68", "", "", "开发商", ""],
)


def facts(id_: int = 1, **changes) -> OwnerFacts:
    values = {"compound_id": 7, "kind": OwnerKind.PERSON, "key": None, "name": "张伟", "dwellings": 1}
    return OwnerFacts(id_, **(values | changes))


# --- the rules


def test_only_keyless_people_of_one_name_in_one_compound_are_merged(english_messages) -> None:
    assert merge_refusal(facts(1), facts(2)) is None
    refusals = {
        "itself": merge_refusal(facts(1), facts(1)),
        "compound": merge_refusal(facts(1), facts(2, compound_id=8)),
        "developer": merge_refusal(facts(1), facts(2, kind=OwnerKind.DEVELOPER)),
        "keyed": merge_refusal(facts(1, key="K1"), facts(2)),
        "name": merge_refusal(facts(1), facts(2, name="张 伟")),
    }
    assert str(refusals["itself"]) == "That is the same owner."
    assert "one compound" in str(refusals["compound"])
    assert "developer" in str(refusals["developer"])
    assert "owner key" in str(refusals["keyed"])
    assert "same name" in str(refusals["name"])


def test_a_dwelling_is_separated_only_from_a_keyless_person_holding_more(english_messages) -> None:
    assert separation_refusal(facts(dwellings=2)) is None
    assert "one dwelling" in str(separation_refusal(facts(dwellings=1)))
    assert "owner key" in str(separation_refusal(facts(dwellings=2, key="K1")))
    assert "developer" in str(separation_refusal(facts(dwellings=3, kind=OwnerKind.DEVELOPER)))


# --- merging


@pytest.fixture
def imported(compound: Compound) -> Compound:
    import_file(compound, ROSTER, "名册.csv", "test")
    db.session.commit()
    return compound


def zhangs(compound: Compound) -> tuple[Owner, Owner, Owner]:
    first = owner_of(compound, "1", "1", "101")
    second = owner_of(compound, "1", "1", "102")
    third = owner_of(compound, "2", "1", "201")
    assert first is not None
    assert second is not None
    assert third is not None
    return first, second, third


def test_the_same_name_owners_are_offered(imported: Compound) -> None:
    first, second, third = zhangs(imported)
    assert [o.id for o in same_name_owners(first)] == [second.id, third.id]
    assert same_name_owners(owner_of(imported, "2", "1", "202")) == []  # a keyed owner: by key only
    assert place(first.dwellings[0]) == "1-1-101"


def test_merging_moves_dwellings_comments_and_contact_and_is_recorded(imported: Compound) -> None:
    first, __, third = zhangs(imported)
    third.email = "zhang@example.test"
    scheme_round = plan_default_rounds(imported, NOW, "test")[1]
    item = add_item(add_scheme(scheme_round, "保留院落", "test").first, "屋面防水", "全部楼栋", "test")
    comment = SchemeComment(
        round_id=scheme_round.id,
        item_id=item.id,
        owner_id=third.id,
        author_role=AuthorRole.OWNER,
        body="留树",
    )
    db.session.add(comment)
    issued = issue_cards(card_people(imported), imported, "test", NOW)
    db.session.commit()
    third_token = next(card.token for card in issued if card.person.owner == third)
    third_id = third.id

    moved = merge_owners(imported, first, third, "  同一身份证，社区核实 ", "user:5")
    db.session.commit()

    assert moved == [dwelling_at(imported, "2", "1", "201").id]
    assert owner_of(imported, "2", "1", "201").id == first.id
    assert db.session.get(Owner, third_id) is None  # named in no vote: gone, with their card
    assert find_by_token(third_token) is None
    assert (first.phone, first.email) == ("13800138000", "zhang@example.test")  # kept, and taken
    assert db.session.get(SchemeComment, comment.id).owner_id == first.id
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "owner.merged")).one()
    detail = json.loads(entry.detail)
    assert entry.actor == "user:5"
    assert (detail["owner"], detail["merged"], detail["merged_kept"]) == (first.id, third_id, False)
    assert detail["contact_taken"] == ["email"]
    assert detail["reason"] == "同一身份证，社区核实"


def test_a_merge_and_a_separation_hold_on_a_new_import(imported: Compound) -> None:
    first, second, third = zhangs(imported)
    merge_owners(imported, first, second, "同一人", "test")
    merge_owners(imported, first, third, "同一人", "test")
    db.session.commit()
    # the same file again: nothing changes, and the phone (on one row of three) stays
    plan = plan_rows(imported, parse_roster(ROSTER))
    assert not plan.has_changes
    reordered = roster(
        ["2栋", "1单元", "201", "60.25", "张伟", "", "", ""],
        ["1栋", "1单元", "102", "70", "张伟", "", "", ""],
        ["1栋", "1单元", "101", "85.5", "张伟", "13800138000", "", ""],
    )
    assert not plan_rows(imported, parse_roster(reordered)).has_changes  # the phone's row comes last
    import_file(imported, ROSTER, "名册.csv", "test")
    db.session.commit()
    assert {owner_of(imported, "1", "1", r).id for r in ("101", "102")} == {first.id}
    assert owner_of(imported, "2", "1", "201").id == first.id
    assert first.phone == "13800138000"

    dwelling = next(d for d in first.dwellings if place(d) == "1-1-102")
    own = separate_dwelling(imported, dwelling, "另一位张伟，房产证不同", "test")
    db.session.commit()
    assert (own.name, own.key, own.phone, own.kind) == ("张伟", None, None, OwnerKind.PERSON)
    assert owner_of(imported, "1", "1", "102").id == own.id
    assert len(first.dwellings) == 2
    plan = import_file(imported, ROSTER, "名册.csv", "test")
    db.session.commit()
    assert counts(plan)["owners"] == (0, 0, 4, 0)  # the two 张伟, 李娜 and the developer, as they were
    assert owner_of(imported, "1", "1", "102").id == own.id
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "owner.separated")).one()


def test_refusals_change_nothing(imported: Compound, english_messages) -> None:
    first, second, __ = zhangs(imported)
    li = owner_of(imported, "2", "1", "202")
    before = count(Owner)
    with pytest.raises(OwnerRefused, match="owner key"):
        merge_owners(imported, first, li, "同一人", "test")
    with pytest.raises(OwnerRefused, match="reason"):
        merge_owners(imported, first, second, "   ", "test")
    with pytest.raises(OwnerRefused, match="one dwelling"):
        separate_dwelling(imported, second.dwellings[0], "不是同一人", "test")
    db.session.rollback()
    assert count(Owner) == before
    assert owner_of(imported, "1", "1", "102").id == second.id
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("owner.%"))).first()


def test_once_a_vote_opens_owners_are_frozen_like_the_roster(imported: Compound) -> None:
    first, second, __ = zhangs(imported)
    vote = plan_default_rounds(imported, NOW, "test")[2]
    vote.state = RoundState.OPEN
    db.session.commit()
    with pytest.raises(RosterFrozen):
        merge_owners(imported, first, second, "同一人", "test")
    with pytest.raises(RosterFrozen):
        separate_dwelling(imported, first.dwellings[0], "不是同一人", "test")
    db.session.rollback()
    assert owner_of(imported, "1", "1", "102").id == second.id


def test_cards_of_a_merged_owner_named_in_a_vote_are_switched_off(imported: Compound) -> None:
    """An owner whom a vote's records name is kept, holding nothing; their card no longer works."""
    from consult.voting.services import record_proxy
    from consult.voting.services import revoke_proxy
    from tests.voting.conftest import jpeg_with_exif

    first, second, third = zhangs(imported)
    vote = plan_default_rounds(imported, NOW, "test")[2]
    issued = issue_cards(card_people(imported), imported, "test", NOW)
    proxy = record_proxy(
        vote, second, proxy_owner=third, proxy_name="", photo=jpeg_with_exif(), actor="test", now=NOW
    )
    db.session.commit()
    with pytest.raises(OwnerRefused, match="proxy"):
        merge_owners(imported, first, second, "同一人", "test")  # the coming vote's authority names them
    db.session.rollback()
    revoke_proxy(proxy, "test", NOW)
    db.session.commit()
    merge_owners(imported, first, second, "同一人", "test")
    db.session.commit()
    kept = db.session.get(Owner, second.id)
    assert kept is not None
    assert kept.dwellings == []
    card = db.session.scalars(select(Invitation).where(Invitation.owner_id == second.id)).one()
    assert card.revoked_reason is RevokeReason.MERGED
    token = next(c.token for c in issued if c.person.owner == second)
    assert find_by_token(token).revoked_at is not None
    assert second.id not in [o.id for o in same_name_owners(first)]  # holding nothing: not offered


# --- the owner's page


def test_a_worker_merges_and_separates_from_the_owner_page(
    client, auth, imported, worker, create_user
) -> None:
    first, second, __ = zhangs(imported)
    page = f"/compounds/{imported.id}/owners/{first.id}"
    auth.login(worker)
    building = client.get(f"/compounds/{imported.id}/buildings/{first.dwellings[0].unit.building_id}")
    assert f'href="{page}"' in building.get_data(as_text=True)  # the building page leads to it
    shown = client.get(page).get_data(as_text=True)
    assert "1-1-102" in shown
    assert "2-1-201" in shown
    assert f'action="{page}/merge/{second.id}"' in shown
    assert "13800138000" not in shown  # the phone masked, as on every staff page

    refused = client.post(f"{page}/merge/{second.id}", data={f"merge-{second.id}-reason": " "})
    assert refused.status_code == 422
    assert "Say how you know" in refused.get_data(as_text=True)
    assert owner_of(imported, "1", "1", "102").id == second.id

    merged = client.post(
        f"{page}/merge/{second.id}", data={f"merge-{second.id}-reason": "同一人，居委会核实"}
    )
    assert merged.headers["Location"].endswith(page)
    assert "Merged: 1 dwelling more" in client.get(page).get_data(as_text=True)
    assert owner_of(imported, "1", "1", "102").id == first.id

    dwelling = dwelling_at(imported, "1", "1", "102")
    separated = client.post(
        f"{page}/separate/{dwelling.id}", data={f"separate-{dwelling.id}-reason": "不是同一人"}
    )
    own = owner_of(imported, "1", "1", "102")
    assert own.id not in (first.id, second.id)
    assert separated.headers["Location"].endswith(f"/owners/{own.id}")
    assert client.get(f"{page}/separate/{dwelling.id}").status_code == 405

    auth.logout()
    auth.login(create_user("reviewer@example.test", Role.REVIEWER))
    read = client.get(page).get_data(as_text=True)
    assert "2-1-201" in read  # the reviewer reads the owner and their namesakes
    assert "/merge/" not in read  # and changes nothing
    assert "/separate/" not in read


def test_an_owner_of_another_compound_is_not_found(client, auth, imported, worker, create_compound) -> None:
    other = create_compound("百花苑")
    import_file(other, ROSTER, "名册.csv", "test")
    db.session.commit()
    first = zhangs(imported)[0]
    theirs = owner_of(other, "1", "1", "102")
    auth.login(worker)
    assert client.get(f"/compounds/{other.id}/owners/{first.id}").status_code == 404
    response = client.post(
        f"/compounds/{imported.id}/owners/{first.id}/merge/{theirs.id}",
        data={f"merge-{theirs.id}-reason": "同一人"},
    )
    assert response.status_code == 404
    assert owner_of(other, "1", "1", "102").id == theirs.id


def test_a_change_that_came_first_is_seen_not_overwritten(imported: Compound, english_messages) -> None:
    """Owners read before another change committed (as a page open in two browsers): the merge or the
    separation reads them afresh under its lock, and refuses rather than act on what is no longer so."""
    first, second, third = zhangs(imported)
    first_id, second_id = first.id, second.id
    # meanwhile, elsewhere: the second 张伟 was merged into the first (not through this session's objects)
    db.session.execute(
        text("UPDATE dwelling SET owner_id = :keep WHERE owner_id = :gone"),
        {"keep": first_id, "gone": second_id},
    )
    db.session.execute(text("DELETE FROM owner WHERE id = :gone"), {"gone": second_id})
    with pytest.raises(OwnerRefused, match="changed meanwhile"):
        merge_owners(imported, first, second, "同一人", "test")
    db.session.rollback()

    merge_owners(imported, first, second, "同一人", "test")  # the same two, both as they are
    db.session.commit()
    assert [place(d) for d in sorted(first.dwellings, key=lambda d: d.id)] == ["1-1-101", "1-1-102"]
    # meanwhile, elsewhere: 1-1-102 was separated again; the page still shows it as the first's
    stale = next(d for d in first.dwellings if place(d) == "1-1-102")
    db.session.execute(
        text("UPDATE dwelling SET owner_id = :other WHERE id = :dwelling"),
        {"other": third.id, "dwelling": stale.id},
    )
    with pytest.raises(OwnerRefused, match="changed meanwhile"):
        separate_dwelling(imported, stale, "不是同一人", "test")
    db.session.rollback()
    assert count(Owner) == 4  # the 张伟 of 1-1-101 and of 2-1-201, 李娜, the developer


def test_an_owner_page_tells_who_merged_and_separated_what_and_why(
    client, auth, imported, worker, english_messages
) -> None:
    first, second, third = zhangs(imported)
    second_id = second.id
    actor = f"user:{worker.id}"
    merge_owners(imported, first, second, "身份证号相同", actor)
    db.session.commit()
    moved = next(d for d in first.dwellings if place(d) == "1-1-102")
    own = separate_dwelling(imported, moved, "房产证不同", actor)
    db.session.commit()

    changes = history(first)
    assert [(c.action, c.other, c.dwellings, c.reason, c.by) for c in changes] == [
        ("merged", second_id, ["1-1-102"], "身份证号相同", worker.name),
        ("separated", own.id, ["1-1-102"], "房产证不同", worker.name),
    ]
    assert [(c.action, c.other) for c in history(own)] == [("separated_from", first.id)]
    assert history(third) == []

    auth.login(worker)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    shown = client.get(f"/compounds/{imported.id}/owners/{first.id}").get_data(as_text=True)
    assert "another owner of this name, of 1-1-102, merged into this one" in shown
    assert "Why: 身份证号相同" in shown
    assert f'href="/compounds/{imported.id}/owners/{own.id}"' in shown  # the separated one is linked
    assert f"/owners/{second_id}" not in shown  # the merged one is gone


def test_the_compound_leads_to_its_namesakes(client, auth, imported, worker, english_messages) -> None:
    first, second, third = zhangs(imported)
    assert [(name, [o.id for o in group]) for name, group in namesakes(imported)] == [
        ("张伟", [first.id, second.id, third.id])  # 李娜's two flats share a key: one owner, no namesake
    ]
    assert namesake_count(imported) == 1
    auth.login(worker)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    detail = client.get(f"/compounds/{imported.id}").get_data(as_text=True)
    assert "1 name is shared by owners without an owner key" in detail
    listed = client.get(f"/compounds/{imported.id}/owners/namesakes").get_data(as_text=True)
    assert f'href="/compounds/{imported.id}/owners/{second.id}">1-1-102</a>' in listed

    merge_owners(imported, first, second, "同一人", "test")
    merge_owners(imported, first, third, "同一人", "test")
    db.session.commit()
    assert namesakes(imported) == []
    assert "without an owner key" not in client.get(f"/compounds/{imported.id}").get_data(as_text=True)
    assert "No two owners without an owner key share a name." in client.get(
        f"/compounds/{imported.id}/owners/namesakes"
    ).get_data(as_text=True)
