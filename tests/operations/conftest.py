"""The operations tests use the models' worlds: the session's landed and built clean world,
and an empty migrated hub of their own."""

from tests.models.conftest import clean_world, hub  # noqa: F401 (fixtures)
