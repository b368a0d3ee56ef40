"""The generated TypeScript client (clients/typescript/) follows the served schema: the committed
openapi.yaml is byte for byte what GET /api/schema/ answers, src/schema.ts is what
openapi-typescript generates from it, and the client, its helpers and the contract checks
(check/contract.ts: list envelopes, the error envelope of 400/401/409, sign-in, sync-status)
compile against those types, and stop compiling when the schema is wrong. `make client`
regenerates both files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from scripts import typescript_client as ts
from tests.clients.conftest import needs_node

REGENERATE = "the committed client is stale: run `make client` and commit clients/typescript/"


def tsc(project: Path, node_modules: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(node_modules / ".bin" / "tsc"), "--noEmit", "--pretty", "false", "-p", "."],
        cwd=project,  # errors name files relative to the project: check/contract.ts(…)
        capture_output=True,
        text=True,
        check=False,
    )


def resolve(schema: dict, node: dict) -> dict:
    """A `$ref` to a component, followed."""
    if "$ref" not in node:
        return node
    return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]


def test_the_committed_schema_is_what_the_server_serves():
    assert ts.SCHEMA.read_bytes() == ts.served_schema(), REGENERATE


@needs_node
def test_the_committed_types_are_what_openapi_typescript_generates(node_modules):
    assert ts.TYPES.read_bytes() == ts.types_for(ts.served_schema()), REGENERATE


@needs_node
def test_the_client_compiles_against_the_generated_types(node_modules):
    done = tsc(ts.CLIENT, node_modules)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_node
def test_the_contract_check_fails_to_compile_against_a_wrong_schema(node_modules, tmp_path):
    """The schema before issue 13: the projects list as a bare array, no error statuses."""
    schema = yaml.safe_load(ts.served_schema())
    projects = schema["paths"]["/api/projects"]["get"]["responses"]["200"]["content"]
    page = resolve(schema, projects["application/json"]["schema"])
    projects["application/json"]["schema"] = page["properties"]["results"]
    del schema["paths"]["/api/proposals/{proposal_id}/accept"]["put"]["responses"]["409"]
    copy = tmp_path / "client"
    for part in ("src", "check", "e2e", "tsconfig.json"):
        source = ts.CLIENT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / part)
    (copy / "node_modules").symlink_to(node_modules)
    (copy / "src" / "schema.ts").write_bytes(ts.types_for(yaml.safe_dump(schema).encode()))

    done = tsc(copy, node_modules)

    assert done.returncode != 0
    errors = [line for line in done.stdout.splitlines() if "error TS" in line]
    in_contract = " ".join(line for line in errors if line.startswith("check/contract.ts"))
    assert "Property 'results' does not exist" in in_contract, done.stdout
    assert "'409' does not satisfy the constraint" in in_contract, done.stdout


def test_the_schema_does_not_depend_on_what_the_process_imported():
    """The served schema is the same before and after every module of the project is imported
    (error codes are collected from ApplicationError's subclasses, some in indexer-only modules)."""
    import importlib
    import pkgutil

    before = ts.served_schema()
    for app in ("accounts", "chainsync", "files", "notifications", "projects", "proposals"):
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)
    assert ts.served_schema() == before
