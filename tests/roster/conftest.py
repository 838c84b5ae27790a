import pytest


@pytest.fixture(autouse=True)
def in_english(english_messages: None) -> None:
    """These tests compare problem messages in English."""
