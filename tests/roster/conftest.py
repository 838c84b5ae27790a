from collections.abc import Iterator

import pytest
from flask_babel import force_locale


@pytest.fixture(autouse=True)
def english_messages(request: pytest.FixtureRequest) -> Iterator[None]:
    """These tests compare problem messages in English (the default is Chinese)."""
    if "app" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("app")
    with force_locale("en"):
        yield
