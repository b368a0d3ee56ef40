"""The frontend's TypeScript client needs node; CI has it (.ci/run installs it when missing)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scripts import typescript_client

NODE_MISSING = shutil.which("node") is None or shutil.which("npm") is None
needs_node = pytest.mark.skipif(
    os.environ.get("CI") != "true" and NODE_MISSING,
    reason="node and npm are not installed (Node 20: apt-get install nodejs npm; .ci/run does)",
)


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """clients/typescript/node_modules, installed with `npm ci` once per package-lock.json."""
    return typescript_client.node_modules()
