from tests.district.conftest import admin  # noqa: F401
from tests.district.conftest import count_queries  # noqa: F401
from tests.district.conftest import engine_hooks  # noqa: F401
from tests.district.conftest import reviewer  # noqa: F401
