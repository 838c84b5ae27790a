"""The count from the database equals a plain reference, over random rosters (owners of several dwellings,
dwellings without an owner), changes of vote, paper and online ballots in any mix, and each precedence."""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from consult.compounds.models import Building
from consult.compounds.models import Dwelling
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.compounds.services import create_compound
from consult.extensions import db
from consult.residents.models import Invitation
from consult.rounds.models import Round
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.voting import services
from consult.voting.counting import Precedence
from consult.voting.counting import QuestionKind
from consult.voting.counting import Scope
from consult.voting.counting import Topic
from consult.voting.rules import PRESETS
from tests.voting.conftest import jpeg_with_exif

OPENS = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPTIONS = ("company", "other_manager", "self_management")
names = itertools.count()


# --- the reference: integers (areas in hundredths), written from DESIGN.md without the application


def ref_passes(
    rule: str, area: dict[object, int], ballots: dict[int, str], approve: str
) -> tuple[bool, int, int]:
    voters = [o for o in ballots if o in area]
    yes = [o for o in voters if ballots[o] == approve]
    total_a, total_n = sum(area.values()), len(area)
    vote_a, vote_n = sum(area[o] for o in voters), len(voters)
    yes_a, yes_n = sum(area[o] for o in yes), len(yes)
    if rule == "programme_admission":
        return total_n > 0 and 3 * yes_n >= 2 * total_n, vote_n, yes_n
    part = total_a > 0 and total_n > 0 and 3 * vote_a >= 2 * total_a and 3 * vote_n >= 2 * total_n
    if rule == "civil_code_major":
        ok = part and vote_n > 0 and 4 * yes_a >= 3 * vote_a and 4 * yes_n >= 3 * vote_n
    else:
        ok = part and vote_n > 0 and 2 * yes_a > vote_a and 2 * yes_n > vote_n
    return ok, vote_n, yes_n


def end_of_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=SHANGHAI)


def ref_counting(
    acts: list[tuple[int, str, datetime, dict[str, str]]], precedence: str
) -> dict[int, dict[str, str]]:
    """Each owner's counted choice per question: the greatest act by the precedence, a tie to the later."""
    best: dict[tuple[int, str], tuple[tuple, str]] = {}
    for seq, (owner, channel, at, choices) in enumerate(acts):
        rank = {"paper": channel == "paper", "online": channel == "online"}.get(precedence, False)
        key = (rank, at, seq)
        for question, choice in choices.items():
            if (owner, question) not in best or key >= best[(owner, question)][0]:
                best[(owner, question)] = (key, choice)
    counted: dict[int, dict[str, str]] = {}
    for (owner, question), (_key, choice) in best.items():
        counted.setdefault(owner, {})[question] = choice
    return counted


# --- the scenario


dwellings_st = st.lists(
    # owners 0–4 (one in six dwellings without a known owner), units 0–2, area in hundredths of m²
    st.tuples(
        st.integers(0, 5).map(lambda n: None if n == 5 else n), st.integers(0, 2), st.integers(1, 20_000)
    ),
    min_size=2,
    max_size=14,
)
acts_st = st.lists(
    st.tuples(
        st.integers(0, 4),  # owner
        st.sampled_from(["online", "paper"]),
        st.integers(0, 9),  # online: 6 × hours after the previous act; paper: signed 2 × days after opening
        st.sampled_from(["yes", "no", "abstain"]),  # compound question
        st.sampled_from(["yes", "no", "abstain"]),  # unit question
        st.sampled_from([*OPTIONS, "abstain"]),  # management
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dwellings=dwellings_st,
    acts=acts_st,
    rule=st.sampled_from(sorted(PRESETS)),
    precedence=st.sampled_from(list(Precedence)),
)
def test_the_database_count_equals_the_reference(
    app, street, workers, uploads, dwellings, acts, rule, precedence
):
    compound = create_compound(street, f"随机小区{next(names)}")
    building = Building(compound_id=compound.id, label="1", sort_key="1")
    units = [StairUnit(building=building, label=str(n + 1), sort_key=str(n + 1)) for n in range(3)]
    owners = [Owner(compound_id=compound.id, name=f"业主{n}", key=f"K{n}") for n in range(5)]
    db.session.add_all([building, *units, *owners])
    db.session.flush()
    for n, (owner, unit, hundredths) in enumerate(dwellings):
        db.session.add(
            Dwelling(
                unit_id=units[unit].id,
                room=str(n),
                sort_key=str(n),
                area=Decimal(hundredths) / 100,
                owner_id=owners[owner].id if owner is not None else None,
            )
        )
    services.save_settings(compound, precedence, None, "t", OPENS)
    round_ = Round(
        compound_id=compound.id,
        number=3,
        kind=RoundKind.VOTE,
        opens_at=OPENS,
        closes_at=OPENS + timedelta(days=60),
    )
    db.session.add(round_)
    db.session.flush()
    q_all = services.add_question(
        round_, topic=Topic.PLAN, prompt_zh="方案", prompt_en=None, rule=PRESETS[rule], actor="t", now=OPENS
    )
    q_unit = services.add_question(
        round_,
        topic=Topic.LIFT,
        prompt_zh="电梯",
        prompt_en=None,
        rule=PRESETS["civil_code_major"],
        scope=Scope.UNIT,
        unit_id=units[0].id,
        actor="t",
        now=OPENS,
    )
    q_mgmt = services.add_question(
        round_,
        topic=Topic.MANAGEMENT,
        kind=QuestionKind.CHOICE,
        prompt_zh="物业",
        prompt_en=None,
        options=[(o, o, None) for o in OPTIONS],
        rule=PRESETS["civil_code_ordinary"],
        actor="t",
        now=OPENS,
    )
    round_.state = RoundState.OPEN
    keys = {q_all.id: "all", q_unit.id: "unit", q_mgmt.id: "mgmt"}
    invitations = {}
    for owner in owners:
        invitations[owner.id] = Invitation(
            compound_id=compound.id,
            owner_id=owner.id,
            token_hash=secrets.token_hex(32),
            code_hash=secrets.token_hex(32),
            issued_by="t",
        )
    db.session.add_all(invitations.values())
    db.session.commit()

    clock = OPENS
    recorded: list[tuple[int, str, datetime, dict[str, str]]] = []
    for owner_n, channel, hours_or_day, c_all, c_unit, c_mgmt in acts:
        owner = owners[owner_n]
        questions = services.owner_questions(round_, owner.id)
        if not questions:
            continue
        wanted = {"all": c_all, "unit": c_unit, "mgmt": c_mgmt}
        choices = {q.id: wanted[keys[q.id]] for q in questions}
        clock += timedelta(hours=6 * hours_or_day, minutes=1)
        if channel == "online":
            services.cast_online(round_, invitations[owner.id], choices, clock)
            at = clock
        else:
            day = (OPENS + timedelta(days=2 * hours_or_day)).astimezone(SHANGHAI).date()
            values = services.PaperValues(day, choices)
            sheet = services.enter_paper(round_, owner, values, jpeg_with_exif(), workers["a"], clock)
            services.add_entry(sheet, values, workers["b"], clock)
            at = end_of_day(day)
        db.session.commit()
        recorded.append((owner.id, channel, at, {keys[q]: c for q, c in choices.items()}))

    event(f"{min(len(recorded), 5)}+ acts" if len(recorded) >= 5 else f"{len(recorded)} acts")
    counted = ref_counting(recorded, precedence.value)
    # a dwelling without a known owner: an owner of its own (a key no ballot has) who never votes
    area: dict[str, dict[object, int]] = {"all": {}, "unit": {}, "mgmt": {}}
    for n, (owner_n, unit, hundredths) in enumerate(dwellings):
        who = owners[owner_n].id if owner_n is not None else ("not known", n)
        scopes = ["all", "mgmt"] + (["unit"] if unit == 0 else [])
        for scope in scopes:
            area[scope][who] = area[scope].get(who, 0) + hundredths

    def ballots(key: str) -> dict[int, str]:
        return {o: c[key] for o, c in counted.items() if key in c}

    results = {keys[r.question.id]: r for r in services.count_round(round_)}
    for key, preset in (("all", rule), ("unit", "civil_code_major")):
        passed, voters, yes = ref_passes(preset, area[key], ballots(key), "yes")
        outcome = results[key].outcome
        tally = outcome.tallies["yes"]
        assert (outcome.passed, tally.voters, tally.approving) == (passed, voters, yes), key
        assert tally.owners == len(area[key])
        assert tally.unknown == sum(1 for who in area[key] if isinstance(who, tuple))
        assert tally.area == Decimal(sum(area[key].values())) / 100
    carried = [o for o in OPTIONS if ref_passes("civil_code_ordinary", area["mgmt"], ballots("mgmt"), o)[0]]
    mgmt = results["mgmt"].outcome
    assert mgmt.carried == (carried[0] if len(carried) == 1 else None)
    assert mgmt.passed is (len(carried) == 1)
    for option in OPTIONS:
        _ok, voters, yes = ref_passes("civil_code_ordinary", area["mgmt"], ballots("mgmt"), option)
        assert (mgmt.tallies[option].voters, mgmt.tallies[option].approving) == (voters, yes)
