"""The vote's fixtures (a compound with owners, a tenant, cards and round 3) for the retention tests."""

from tests.voting.conftest import *  # noqa: F403
