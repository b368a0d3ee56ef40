"""Schemathesis over the whole served OpenAPI, against a live server on loopback (this test's
database: SQLite, or PostgreSQL in CI's second run), signed in as a test wallet
(tests/contract/schemathesis_hooks.py), all four phases, with the checks the frontend's contract
needs. A schema-valid request may be refused only with 401, 403, 404, 409, 415, 422 or 429; a
schema-invalid one must be refused (400, or what the path or sign-in decides first)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from notifications.services import notification_create
from tests.accounts.signer import Wallet
from tests.chainsync.apis.conftest import chain  # noqa: F401
from tests.chainsync.conftest import hiro  # noqa: F401
from tests.chainsync.hiro_server import ESCROW_CONTRACT
from tests.contract.schemathesis_hooks import WALLET
from tests.factories import ProjectFactory, ProposalFactory, UserFactory
from tests.files.factories import StoredFileFactory
from tests.projects import disputes

ROOT = Path(__file__).resolve().parents[2]
CHAINHOOK_SECRET = "schemathesis-chainhook-secret"  # the push endpoint on, its bearer in the hooks
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection,positive_data_acceptance,"
    "ignored_auth,use_after_free,ensure_resource_availability"
)
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))  # per operation and phase
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "415", "422", "429"]

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "409", "413", "415", "422", "429"]
"""


def seed() -> dict[str, list[str]]:
    """Resources the test wallet owns or takes part in, so generated requests reach the services
    behind the 404s (each path parameter takes one of these half of the time)."""
    me = UserFactory(address=WALLET.address).address
    other = UserFactory().address
    mine = ProjectFactory(client_address=me)
    theirs = ProjectFactory(client_address=other)
    ProposalFactory(project=mine, freelancer_address=other)
    proposal = ProposalFactory(project=theirs, freelancer_address=me)
    working = disputes.active_project()
    working.freelancer_address = me
    working.save(update_fields=["freelancer_address"])
    dispute = disputes.file(working, by=me)
    notification = notification_create(recipient=me, type="proposal_received", message="Hi.")
    stored = StoredFileFactory(uploaded_by=me)
    return {
        "path.project_id": [str(p.pk) for p in (mine, theirs, working)],
        "path.proposal_id": [str(proposal.pk)],
        "path.dispute_id": [str(dispute.pk)],
        "path.notification_id": [str(notification.pk)],
        "path.number": ["1", "2"],
        "path.address": [me, other],
        "path.cid": [stored.cid],
    }


def config_text(seeded: dict[str, list[str]]) -> str:
    lines = [CONFIG]
    for key, values in seeded.items():
        name = key.replace(".", "_")
        lines.append(f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n")
    lines.append("[parameters]")
    lines += [
        f'"{key}" = {{ dictionary = "{key.replace(".", "_")}", probability = 0.5 }}'
        for key in seeded
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def contract_server(live_server, settings, chain):  # noqa: F811
    settings.AUTH = {**settings.AUTH, "RATE_PER_IP": "100000/min", "RATE_PER_ADDRESS": "100000/min"}
    settings.FILES = {**settings.FILES, "UPLOAD_RATE_USER": None, "UPLOAD_RATE_IP": None}
    settings.CHAINSYNC = {**settings.CHAINSYNC, "CHAINHOOK_SECRET": CHAINHOOK_SECRET}
    assert settings.CHAINSYNC["ESCROW_CONTRACT_ID"] == ESCROW_CONTRACT
    return live_server.url


@pytest.mark.off_contract  # schemathesis checks these responses itself
@pytest.mark.django_db(transaction=True)
def test_the_served_schema_passes_schemathesis(contract_server, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_text(seed()))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_hooks",
        "STXWORX_API_URL": contract_server,
        "STXWORX_TEST_WALLET_SEED": "schemathesis",
        "STXWORX_CHAINHOOK_SECRET": CHAINHOOK_SECRET,
    }
    assert Wallet.from_seed("schemathesis").address
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(config),
            "run",
            f"{contract_server}/api/schema/?format=json",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--workers",
            "1",
            "--seed",
            os.environ.get("SCHEMATHESIS_SEED", "13"),
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            "--no-color",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if os.environ.get("SCHEMATHESIS_OUTPUT"):  # the whole report, to read a failure at leisure
        Path(os.environ["SCHEMATHESIS_OUTPUT"]).write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
