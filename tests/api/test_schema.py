"""Schemathesis runs the API in-process (WSGI) from its OpenAPI document: no server error, and every answer
matches the document (status codes, content type, response schemas).

Driven from a plain test: schemathesis' own pytest loader (``from_fixture``) relies on pytest internals
that pytest 9 no longer has.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from schemathesis import GenerationMode

from consult.extensions import db
from tests.district import factories
from tests.district.factories import SCENARIOS

EXAMPLES = 60


@pytest.mark.options(API_LIMIT="100000 per minute")  # hundreds of requests from one client
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi_document(app, mode):
    """Positive: valid requests get documented answers. Negative: requests the document forbids (a page
    of 0, a stage that is none) are refused with a documented 4xx, never a 5xx."""
    factories.many(len(SCENARIOS) + 2)
    factories.street("府南街道")
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted(op.label for op in operations) == [
        "GET /compounds",
        "GET /compounds/{compound_id}",
        "GET /stages",
        "GET /streets",
    ]
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
            continue  # nothing to get wrong

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            case.call_and_validate()

        check()
