"""The fake Hiro API fixtures, shared with tests/projects."""

from tests.projects.conftest import api, hiro  # noqa: F401
