"""The frontend's TypeScript client (clients/typescript/): its schema and generated types.

`make client` runs this file: it takes the OpenAPI document exactly as `GET /api/schema/` serves
it (through Django's test client, so no server has to run), writes it to
clients/typescript/openapi.yaml and generates clients/typescript/src/schema.ts from it with
openapi-typescript (pinned in clients/typescript/package-lock.json). tests/clients/ checks that
both committed files are what this produces from the current code, and type-checks the client
against them.

The node packages are installed with `npm ci` into clients/typescript/node_modules, once per
package-lock.json: a stamp file there holds the lock's SHA-256, so later runs reuse them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "clients" / "typescript"
SCHEMA = CLIENT / "openapi.yaml"
TYPES = CLIENT / "src" / "schema.ts"
LOCK = CLIENT / "package-lock.json"
NODE_MODULES = CLIENT / "node_modules"
STAMP = NODE_MODULES / ".stxworx-lock-sha256"
# defaultNonNullable off: a request field with a server-side default stays optional in the types,
# as the server accepts a request without it. An object without declared properties (the error's
# `details`) is Record<string, unknown>, so its keys can be read, not Record<string, never>.
OPENAPI_TYPESCRIPT_ARGS = ("--default-non-nullable=false", "--empty-objects-unknown")


class NodeMissing(RuntimeError):
    """node or npm is not installed."""


def served_schema() -> bytes:
    """The bytes `GET /api/schema/` answers (Django must be set up)."""
    from django.test import Client

    response = Client().get("/api/schema/")
    if response.status_code != 200:
        raise RuntimeError(f"GET /api/schema/ answered {response.status_code}")
    return response.content


def node_modules() -> Path:
    """clients/typescript/node_modules as package-lock.json pins it (`npm ci` when it is missing
    or was installed from another lock; a file lock keeps two runs from installing at once)."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        raise NodeMissing("node and npm are needed (Node 20 or newer)")
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if _stamp() == digest:
        return NODE_MODULES
    with open(CLIENT / ".npm-ci.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if _stamp() != digest:
            # Install scripts are not needed (esbuild ships its binary as an optional package)
            # and some of @stacks/connect's dependencies would try to compile native code.
            flags = ["--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
            _run("npm ci", [npm, "ci", *flags])
            STAMP.write_text(digest)
    return NODE_MODULES


def _run(what: str, args: list[str]) -> None:
    """Run a node tool in the client's folder; its output only when it fails."""
    done = subprocess.run(args, cwd=CLIENT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stdout}\n{done.stderr}")


def _stamp() -> str | None:
    try:
        return STAMP.read_text().strip()
    except FileNotFoundError:
        return None


def bin_path(name: str) -> Path:
    return node_modules() / ".bin" / name


def types_for(schema: bytes) -> bytes:
    """What openapi-typescript generates from these schema bytes."""
    tool = bin_path("openapi-typescript")
    with tempfile.TemporaryDirectory(prefix="stxworx-client-") as tmp:
        source, out = Path(tmp) / "openapi.yaml", Path(tmp) / "schema.ts"
        source.write_bytes(schema)
        _run(
            "openapi-typescript",
            [str(tool), str(source), "--output", str(out), *OPENAPI_TYPESCRIPT_ARGS],
        )
        return out.read_bytes()


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stxworx.settings")
    import django

    django.setup()
    schema = served_schema()
    types = types_for(schema)
    for path, content in ((SCHEMA, schema), (TYPES, types)):
        changed = not path.exists() or path.read_bytes() != content
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        print(f"{'wrote' if changed else 'unchanged'} {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
