"""Access control: one table of role × route, and a walk of every route of the app as every principal.

``ACCESS`` names, for every endpoint of the app, the principals who may use it on compound A (see
``access_world``). The walk signs each principal in, sends the route's request, and holds the app to the
table: a principal outside the row is refused (a redirect to the login or code page, 403, 404 or 405, and
never a page or any other redirect); a principal in the row gets through wherever every id of the URL
exists in the world; nobody ever gets a server error. A new route fails the suite until it has a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from consult import create_app
from consult.auth import services as auth_services
from consult.auth.models import Role
from consult.extensions import db
from tests.conftest import app_config
from tests.conftest import empty_database
from tests.security.access_world import PASSWORD
from tests.security.access_world import STAFF as STAFF_ACCOUNTS
from tests.security.access_world import World
from tests.security.access_world import build_world

# --- who

ANONYMOUS = "anonymous"
RESIDENT = "resident"  # owner in compound A, by card, privacy notice read
OCCUPANT = "occupant"  # tenant in compound A, by card
RESIDENT_OTHER = "resident_other"  # owner in compound B (another street)
WORKER = "worker"  # community worker of compound A's street
WORKER_OTHER = "worker_other"  # community worker of the other street
REVIEWER = "reviewer"  # district reviewer
EXPERT = "expert"  # expert; no panel exists yet, so an expert of another panel
ADMIN = "admin"

PRINCIPALS = (
    ANONYMOUS,
    RESIDENT,
    OCCUPANT,
    RESIDENT_OTHER,
    WORKER,
    WORKER_OTHER,
    REVIEWER,
    EXPERT,
    ADMIN,
)
STAFF_PRINCIPALS = (WORKER, WORKER_OTHER, REVIEWER, EXPERT, ADMIN)

EVERYONE = frozenset(PRINCIPALS)
#: anyone signed in with a staff account, whatever their compounds
STAFF = frozenset(STAFF_PRINCIPALS)
#: anyone signed in by a card, of whatever compound (their own pages)
CARD_HOLDERS = frozenset({RESIDENT, OCCUPANT, RESIDENT_OTHER})
#: the residents of compound A (owners and occupants)
RESIDENTS_A = frozenset({RESIDENT, OCCUPANT})
#: the owners of compound A: only they hold a ballot
OWNERS_A = frozenset({RESIDENT})
#: staff who read compound A: its street's worker, the district reviewer, the admin
READ_A = frozenset({WORKER, REVIEWER, ADMIN})
#: staff who change compound A: its street's worker and the admin (reviewers only read)
RUN_A = frozenset({WORKER, ADMIN})
DISTRICT = frozenset({REVIEWER, ADMIN})
ADMINS = frozenset({ADMIN})

# --- the table: endpoint -> who may use it (every endpoint of app.url_map but "static")

ACCESS: dict[str, frozenset[str]] = {
    # open data: public, aggregates only
    "api.compound": EVERYONE,
    "api.compounds": EVERYONE,
    "api.index": EVERYONE,
    "api.not_found": EVERYONE,  # its answer is a JSON 404 (see ANSWERS_404)
    "api.openapi": EVERYONE,
    "api.stages": EVERYONE,
    "api.streets": EVERYONE,
    # staff accounts
    "auth.forgot": EVERYONE,
    "auth.login": EVERYONE,
    "auth.logout": STAFF,
    "auth.password": STAFF,
    "auth.end_others": STAFF,
    "auth.end_session": STAFF,  # one of their own sessions (404 for any other)
    "auth.recovery_codes": STAFF,
    "auth.sessions": STAFF,  # new recovery codes (with two-step sign-in off: back to its page)
    "auth.reset": EVERYONE,  # the page a new-password link opens (its token names the account)
    "auth.second_factor": frozenset(),  # reached only between a right password and the app's code
    "auth.two_step": STAFF,
    "auth.sign_out_all": ADMINS,
    "auth.user_action": ADMINS,
    "auth.user_role": ADMINS,
    "auth.users": ADMINS,
    # compounds
    "compounds.building": READ_A,
    "compounds.dashboard": STAFF,  # each sees only their own compounds (an expert: none)
    "compounds.detail": READ_A,
    "district.compounds_export": DISTRICT,
    "district.dashboard": DISTRICT,
    # the consensus record: workers submit, the district reviews, anyone checks a digest
    "dossier.approve": DISTRICT,
    "dossier.pdf": READ_A,
    "dossier.preview": READ_A,
    "dossier.queue": DISTRICT,
    "dossier.record": READ_A,
    "dossier.return_record": DISTRICT,
    "dossier.review": DISTRICT,
    "dossier.submit": RUN_A,
    "dossier.verify": EVERYONE,
    "dossier.version": READ_A,
    # expert panels: the expert principal sits on no panel; the panel's own expert is not walked
    "experts.index": frozenset({EXPERT, REVIEWER, ADMIN}),
    "experts.new_panel": DISTRICT,
    "experts.panel": DISTRICT,
    "experts.rubric": DISTRICT,
    "experts.freeze": DISTRICT,
    "experts.conflict": frozenset(),  # members only
    "experts.score": frozenset(),  # members only
    "experts.submit": frozenset(),  # members only
    "experts.close": DISTRICT,
    "experts.reopen": DISTRICT,  # the chair too
    "experts.opinion": frozenset(),  # the chair only
    "experts.remark": frozenset(),  # members only
    "experts.grant": DISTRICT,  # the chair too
    "experts.results": DISTRICT,
    # language and large type: anyone
    "i18n.switch": EVERYONE,
    "i18n.toggle_large_type": EVERYONE,
    "index": EVERYONE,
    "favicon": EVERYONE,
    # notices
    "notify.message": ADMINS,
    "notify.outbox": ADMINS,
    "notify.resend": ADMINS,
    "notify.unsubscribe": EVERYONE,
    # paper versions of the survey and the ballot: staff print per compound or building, a resident their own
    "paper.ballot_sheets": RUN_A,
    "paper.my_ballot": OWNERS_A,
    "paper.my_survey": RESIDENTS_A,
    "paper.survey_sheets": RUN_A,
    # public notice pages (公示)
    "public.notice": EVERYONE,
    "public.poster": EVERYONE,
    "public.poster_pdf": EVERYONE,
    # residents: coming in, their own pages; workers: cards
    "residents.acknowledge": CARD_HOLDERS,
    "residents.enter_code": EVERYONE,
    "residents.enter_code_for": EVERYONE,
    "residents.enter_link": EVERYONE,
    "residents.home": CARD_HOLDERS,
    "residents.leave": EVERYONE,  # ends a resident session if there is one; harmless for anyone
    "residents.print_cards": RUN_A,
    "residents.print_one_card": RUN_A,
    "residents.revoke_card": RUN_A,
    # roster
    "roster.apply": RUN_A,
    "roster.merge": RUN_A,
    "roster.namesakes": READ_A,
    "roster.owner": READ_A,
    "roster.separate": RUN_A,
    "roster.upload": RUN_A,
    # the round engine
    "rounds.act": RUN_A,
    "rounds.doors": READ_A,
    "rounds.participation_page": READ_A,
    "rounds.plan": RUN_A,
    "rounds.repeat_round": RUN_A,
    "rounds.schedule": RUN_A,
    "rounds.timeline": READ_A,
    # round 2: schemes
    "schemes.add": RUN_A,
    "schemes.add_item": RUN_A,
    "schemes.answer": RUN_A,
    "schemes.carry_over": RUN_A,
    "schemes.comment": RESIDENTS_A,  # occupants may comment
    "schemes.comments": READ_A,
    "schemes.document": READ_A | RESIDENTS_A,  # round 2 open, first version: not yet public
    "schemes.edit_item": RUN_A,
    "schemes.edit_note": RUN_A,
    "schemes.overview": READ_A,
    "schemes.prefer": RESIDENTS_A,  # a preference, not a legal vote
    "schemes.public_answers": EVERYONE,
    "schemes.remove": RUN_A,
    "schemes.remove_document": RUN_A,
    "schemes.remove_item": RUN_A,
    "schemes.resident_round": RESIDENTS_A,
    "schemes.revise": RUN_A,
    "schemes.upload": RUN_A,
    "schemes.version": READ_A,
    # round 1: needs survey
    "surveys.add_question": RUN_A,
    "surveys.answer": RESIDENTS_A,  # occupants answer surveys
    "surveys.builder": READ_A,
    "surveys.create": RUN_A,
    "surveys.decide": RUN_A,
    "surveys.paper_answer": RUN_A,  # a worker enters a signed paper survey
    "surveys.public_needs": EVERYONE,
    "surveys.publish": RUN_A,
    "surveys.remove_question": RUN_A,
    "surveys.resident_needs": RESIDENTS_A,
    "surveys.results": READ_A,
    # round 3: the vote; who voted how is for that owner, workers (and the supervising admin) only
    "voting.add_question": RUN_A,
    "voting.add_standard": RUN_A,
    "voting.carry_over_questions": RUN_A,
    "voting.ballot": OWNERS_A,
    "voting.ballot_for": OWNERS_A,  # 张伟 holds 李娜's written authority
    "voting.inspect": READ_A,
    "voting.manage": READ_A,
    "voting.paper": RUN_A,
    "voting.paper_choose": ADMINS,  # the supervisor settles entries that differ
    "voting.paper_new": RUN_A,
    "voting.paper_photo": RUN_A,
    "voting.paper_sheet": RUN_A,
    "voting.proxies": RUN_A,
    "voting.proxy_photo": RUN_A,
    "voting.public_receipts": EVERYONE,
    "voting.public_result": EVERYONE,
    "voting.receipt": OWNERS_A,
    "voting.remove_question": RUN_A,
    "voting.results": READ_A,
    "voting.revoke_proxy": RUN_A,
    "voting.settings": RUN_A,
}

# --- how each route is walked

#: the stage of compound A's rounds a route is walked in (see access_world); "needs" otherwise
STAGE = {
    "surveys.public_needs": "needs_published",
    "surveys.resident_needs": "needs_published",
    "schemes.answer": "schemes",
    "schemes.comment": "schemes",
    "schemes.comments": "schemes",
    "schemes.document": "schemes",
    "schemes.prefer": "schemes",
    "schemes.resident_round": "schemes",
    "paper.my_ballot": "vote",
    "voting.ballot": "vote",
    "voting.ballot_for": "vote",
    "voting.inspect": "vote",
    "voting.paper": "vote",
    "voting.paper_choose": "vote",
    "voting.paper_new": "vote",
    "voting.paper_photo": "vote",
    "voting.paper_sheet": "vote",
    "voting.public_receipts": "vote",
    "voting.public_result": "vote",
    "voting.receipt": "vote",
    "voting.results": "vote",
}

#: rows that differ in another stage of the rounds: (endpoint, stage, who may use it there)
STAGED_ROWS = [
    # round 2 in draft: its first version is not yet shown to residents, so its documents are staff's only
    ("schemes.document", "needs", READ_A),
]

#: the round a route's ``round_id`` names, by blueprint: each area works on its own kind of round
ROUND_OF_BLUEPRINT = {"rounds": 1, "surveys": 1, "schemes": 2, "voting": 3, "experts": 2}
#: routes of a blueprint that works on several kinds of round: the round each one works on
ROUND_OF_ENDPOINT = {
    "paper.survey_sheets": 1,
    "paper.my_survey": 1,
    "paper.ballot_sheets": 3,
    "paper.my_ballot": 3,
}

#: URL parameters named alike on several routes but meaning different things: (endpoint, name) -> world id
PARAMETERS = {
    ("notify.unsubscribe", "token"): "unsubscribe",
    ("auth.reset", "token"): "reset",
    ("residents.enter_link", "token"): "token",
    ("surveys.decide", "code"): "need_code",
    ("voting.receipt", "code"): "receipt",
    ("surveys.remove_question", "question_id"): "survey_question",
    ("voting.remove_question", "question_id"): "vote_question",
    ("voting.ballot_for", "owner_id"): "proxy_giver",
    ("roster.owner", "owner_id"): "bystander_owner",
    ("roster.merge", "owner_id"): "bystander_owner",
    ("roster.merge", "other_id"): "paper_owner",
    ("roster.separate", "owner_id"): "bystander_owner",
    ("roster.separate", "dwelling_id"): "bystander_dwelling",
}
#: the other URL parameters -> world id (or a fixed value)
BY_NAME = {
    "user_id": "user",
    "session_id": "staff_session",  # in no world: a staff session is made by signing in, as the walk does
    "invitation_id": "invitation",
    "message_id": "message",
    "scheme_id": "scheme",
    "item_id": "item",
    "comment_id": "comment",
    "document_id": "document",
    "sheet_id": "sheet",
    "proxy_id": "proxy",
    "panel_id": "panel",
    "member_id": "panel_member",
    "record_id": "record",
    "version": "record_version",
}
FIXED = {
    ("i18n.switch", "code"): "en",
    ("auth.user_action", "what"): "sign-out",
    ("rounds.act", "action"): "close",
    ("api.not_found", "unknown"): "no/such/thing",
}
#: an id that is in no world
ABSENT = 987654

#: query strings and form fields a route needs to get past "which one?" (-> world ids)
QUERY = {"voting.paper_new": {"owner": "paper_owner"}}
FORM = {"residents.print_one_card": {"owner_id": "bystander_owner"}}

#: POST routes that change only the signed-in person's own session or settings, never the world others see
SESSION_ONLY = {
    "auth.logout",
    "i18n.switch",
    "i18n.toggle_large_type",
    "residents.acknowledge",
    "residents.leave",
}
#: routes whose own answer sends everyone to the login or code page (so that answer is no refusal)
LANDING = {"index", "auth.logout", "residents.leave"}
#: routes whose own answer is a 404 (in JSON)
ANSWERS_404 = {"api.not_found"}

REDIRECTS = {301, 302, 303, 307, 308}
REFUSAL_PAGES = {"/auth/login", "/code"}
REFUSAL_STATUSES = {401, 403, 404, 405}
#: a route in reach may answer an empty form with these
FORM_REFUSALS = {400, 409, 422}


# --- the app, built once for the module; a fresh world for each route


@pytest.fixture(scope="module")
def acl_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with pytest.MonkeyPatch.context() as patch:
        # a cheap password hash: the walk creates and signs in staff accounts hundreds of times
        patch.setattr(auth_services, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        app = create_app(
            app_config(
                UPLOAD_FOLDER=str(tmp_path_factory.mktemp("uploads")),
                # the walk asks for every public page and API route as every role, from one address
                PUBLIC_LIMIT="100000 per minute",
                POSTER_LIMIT="100000 per minute",
                API_LIMIT="100000 per minute",
            )
        )
        with app.app_context():
            db.create_all()
            empty_database()
        yield app
        with app.app_context():
            empty_database()
            db.session.remove()
            db.engine.dispose()


def fresh_world(app: Flask, stage: str) -> World:
    with app.app_context():
        empty_database()
        return build_world(stage)


def url_for_rule(app: Flask, rule: Rule, world: World) -> tuple[str, list[str]]:
    """The rule's URL on compound A, and the parameters that name nothing in this world."""
    endpoint = rule.endpoint
    values: dict[str, object] = {}
    absent = []
    for name in sorted(rule.arguments):
        if (endpoint, name) in FIXED:
            values[name] = FIXED[endpoint, name]
        elif name == "compound_id":
            values[name] = world.compound
        elif name == "round_id":
            number = ROUND_OF_ENDPOINT.get(endpoint) or ROUND_OF_BLUEPRINT.get(endpoint.partition(".")[0])
            assert number is not None, f"{endpoint}: say in ROUND_OF_BLUEPRINT which round it works on"
            values[name] = world.rounds[number]
        elif name == "building_id":
            values[name] = world.building
        elif name == "number":
            values[name] = 1
        else:
            key = PARAMETERS.get((endpoint, name)) or BY_NAME.get(name)
            if key is None:
                raise AssertionError(f"{endpoint}: the walk does not know how to fill <{name}>")
            if key in world.ids:
                values[name] = world.ids[key]
            else:
                values[name] = "NOSUCHTHING" if name in ("code", "token") else ABSENT
                absent.append(name)
    url = app.url_map.bind("localhost").build(endpoint, values)
    query = {k: world.ids[v] for k, v in QUERY.get(endpoint, {}).items()}
    return (f"{url}?{urlencode(query)}" if query else url), absent


#: where each staff role lands once signed in
STAFF_HOME = {
    Role.WORKER: "/compounds/",
    Role.ADMIN: "/compounds/",
    Role.REVIEWER: "/district/",
    Role.EXPERT: "/experts",
}


def sign_in(app: Flask, world: World, principal: str) -> FlaskClient:
    client = app.test_client()
    if principal in world.emails:
        response = client.post("/auth/login", data={"email": world.emails[principal], "password": PASSWORD})
        assert response.status_code == 302, f"{principal} could not sign in"
        assert urlsplit(response.headers["Location"]).path == STAFF_HOME[STAFF_ACCOUNTS[principal][1]]
    elif principal in world.tokens:
        response = client.get(f"/r/{world.tokens[principal]}")
        assert response.status_code == 302, f"{principal} could not come in by card"
        assert urlsplit(response.headers["Location"]).path == "/me"
    else:
        assert principal == ANONYMOUS
    return client


def _target(response: TestResponse) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def is_refusal(response: TestResponse) -> bool:
    if response.status_code in REDIRECTS:
        return _target(response) in REFUSAL_PAGES
    return response.status_code in REFUSAL_STATUSES


def is_reached(response: TestResponse, endpoint: str, method: str) -> bool:
    status = response.status_code
    if endpoint in LANDING:
        return status < 400
    if endpoint in ANSWERS_404:
        return status == 404 and response.is_json
    if status in REDIRECTS:
        return _target(response) not in REFUSAL_PAGES
    return 200 <= status < 300 or (method == "POST" and status in FORM_REFUSALS)


def _describe(response: TestResponse) -> str:
    where = f" -> {response.headers['Location']}" if response.status_code in REDIRECTS else ""
    return f"{response.status_code}{where}"


def walk(
    app: Flask, rule: Rule, stage: str | None = None, allowed: frozenset[str] | None = None
) -> list[str]:
    """Every principal on this rule; the problems found, each naming the endpoint and the principal."""
    endpoint = rule.endpoint
    allowed = ACCESS[endpoint] if allowed is None else allowed
    stage = stage or STAGE.get(endpoint, "needs")
    takes_get = "GET" in rule.methods
    world = fresh_world(app, stage)
    dirty = False  # a POST went through: the next principal gets a fresh world
    problems = []
    # the refused first (they must change nothing), then those in the row
    order = [p for p in PRINCIPALS if p not in allowed] + [p for p in PRINCIPALS if p in allowed]
    for principal in order:
        admitted = principal in allowed
        if dirty:
            world, dirty = fresh_world(app, stage), False
        url, absent = url_for_rule(app, rule, world)
        form = {k: world.ids[v] for k, v in FORM.get(endpoint, {}).items()}
        client = sign_in(app, world, principal)
        methods = ["GET"] if takes_get else ["POST"]
        if not admitted and takes_get and "POST" in rule.methods:
            methods.append("POST")  # a refused principal is refused whatever the method
        for method in methods:
            label = f"{endpoint} as {principal}: {method} {url}"
            try:
                response = client.open(url, method=method, data=form if method == "POST" else None)
            except Exception as error:  # a server error, whoever asks
                problems.append(f"{label} raised {error!r}")
                dirty = True
                continue
            response.close()  # a file sent is closed
            status = response.status_code
            if method == "POST" and endpoint not in SESSION_ONLY:
                dirty = dirty or status >= 500 or (status < 400 and not is_refusal(response))
            if status >= 500:
                problems.append(f"{label} answered {_describe(response)} (server error)")
            elif not admitted and not is_refusal(response):
                problems.append(f"{label} answered {_describe(response)}: LEAK, not in the table's row")
            elif admitted and not absent and not is_reached(response, endpoint, method):
                problems.append(f"{label} answered {_describe(response)}: refused, but in the table's row")
    return problems


# --- the tests


def test_every_route_is_in_the_table(acl_app: Flask) -> None:
    routes = {rule.endpoint for rule in acl_app.url_map.iter_rules() if rule.endpoint != "static"}
    missing = sorted(routes - ACCESS.keys())
    gone = sorted(ACCESS.keys() - routes)
    assert not missing, f"routes without a row in ACCESS (say who may use them): {missing}"
    assert not gone, f"rows of ACCESS that are no longer routes: {gone}"


def test_the_table_names_only_known_principals() -> None:
    unknown = {endpoint: sorted(row - EVERYONE) for endpoint, row in ACCESS.items() if row - EVERYONE}
    assert not unknown
    assert set(STAGE) <= ACCESS.keys()


@pytest.mark.parametrize("endpoint", sorted(ACCESS))
def test_route_admits_exactly_its_row(acl_app: Flask, endpoint: str) -> None:
    rules = [rule for rule in acl_app.url_map.iter_rules() if rule.endpoint == endpoint]
    if not rules:
        pytest.fail(f"{endpoint} is in ACCESS but is no route of the app")
    problems = [problem for rule in rules for problem in walk(acl_app, rule)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("endpoint", "stage", "allowed"), STAGED_ROWS)
def test_route_admits_its_row_in_another_stage(
    acl_app: Flask, endpoint: str, stage: str, allowed: frozenset[str]
) -> None:
    rules = [rule for rule in acl_app.url_map.iter_rules() if rule.endpoint == endpoint]
    assert rules, f"{endpoint} is no route of the app"
    problems = [problem for rule in rules for problem in walk(acl_app, rule, stage, allowed)]
    assert not problems, "\n".join(problems)


def _crosses_compounds(rule: Rule) -> bool:
    """A route of one compound that also names something of it (a round, a card, an owner …)."""
    names = set(rule.arguments) - {"compound_id"}
    extra = names or rule.endpoint in QUERY or rule.endpoint in FORM
    return "compound_id" in rule.arguments and bool(extra) and WORKER in ACCESS.get(rule.endpoint, ())


def _in_compound(url: str, world: World) -> str:
    """The same URL with compound B where it names compound A (staff pages and public pages)."""
    for prefix in ("/compounds/", "/p/"):
        if url.startswith(f"{prefix}{world.compound}/"):
            return url.replace(f"{prefix}{world.compound}/", f"{prefix}{world.compound_other}/", 1)
    raise AssertionError(f"{url} does not name compound A")


def test_compound_a_is_not_reached_through_compound_b(acl_app: Flask) -> None:
    """The worker of the other street puts their own compound (B) in the URL and compound A's round,
    card, scheme, sheet … after it: every such route refuses, as if A's things did not exist. (The
    public pages too: A's answers or result never appear under B's name.)"""
    rules = sorted(
        (rule for rule in acl_app.url_map.iter_rules() if _crosses_compounds(rule)),
        key=lambda rule: rule.endpoint,
    )
    assert len(rules) > 40
    problems = []
    for stage in sorted({STAGE.get(rule.endpoint, "needs") for rule in rules}):
        world = fresh_world(acl_app, stage)
        client = sign_in(acl_app, world, WORKER_OTHER)
        for rule in rules:
            if STAGE.get(rule.endpoint, "needs") != stage:
                continue
            url, _absent = url_for_rule(acl_app, rule, world)
            url = _in_compound(url, world)
            form = {k: world.ids[v] for k, v in FORM.get(rule.endpoint, {}).items()}
            method = "GET" if "GET" in rule.methods else "POST"
            label = f"{rule.endpoint} as {WORKER_OTHER}: {method} {url}"
            try:
                response = client.open(url, method=method, data=form if method == "POST" else None)
            except Exception as error:  # a server error
                problems.append(f"{label} raised {error!r}")
                continue
            response.close()
            if not is_refusal(response):
                problems.append(f"{label} answered {_describe(response)}: LEAK of compound A's data")
    assert not problems, "\n".join(problems)
