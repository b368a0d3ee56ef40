"""The fake Hiro API fixtures (`hiro`, `api`) for the tests that run the indexer: the ones
tests/chainsync/conftest.py defines, one definition for both (tests/browser/conftest.py takes
them from here)."""

from tests.chainsync.conftest import api, hiro  # noqa: F401
