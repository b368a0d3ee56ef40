"""The review page and GET /api/admin/disputes/:id around the files and the resolution call:
an ipfs:// submission shown with its CID, hash, name, size, pin status and download link
(finding 8), evidence files with their pin status (9), an aborted resolution call shown as
failed with the contract's error (12), no "waiting" text and a warning once the chain closed
the dispute otherwise (3), and the page's Content-Security-Policy (20)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from files.models import StoredFile
from projects import services
from projects.models import Dispute
from stacks import bool_, uint
from tests.chainsync.hiro_server import CLIENT
from tests.chainsync.scenarios import indexer_settings, sync
from tests.files.factories import StoredFileFactory
from tests.projects.disputes import (
    active_project,
    close,
    disputed_on_chain,
    file,
    reviewer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def offline(settings):
    settings.CHAINSYNC = {**settings.CHAINSYNC, "STACKS_API_URL": "http://127.0.0.1:9"}


def _page(dispute: Dispute) -> tuple[str, dict]:
    browser = Client()
    browser.force_login(reviewer())
    response = browser.get(f"/admin/projects/dispute/{dispute.pk}/review/")
    assert response.status_code == 200
    return response.content.decode(), response.headers


def test_an_ipfs_submission_and_evidence_files_show_their_identity_and_pin_status(
    offline, client_for
):
    project = active_project()
    deliverable = StoredFileFactory(name="final-design.pdf", pin_status=StoredFile.PinStatus.PINNED)
    log = StoredFileFactory(
        name="ci.log", pin_status=StoredFile.PinStatus.FAILED, pin_error="401 Unauthorized"
    )
    project.milestones.filter(number=1).update(submission_link=f"ipfs://{deliverable.cid}")
    dispute = file(project, 1, notify=False)
    services.evidence_submit(
        dispute_id=dispute.pk, actor=project.client_address, description="Log.", file_cid=log.cid
    )
    # when
    html, _ = _page(dispute)
    body = client_for(reviewer()).get(f"/api/admin/disputes/{dispute.pk}").json()
    # then: the submission is the stored file, with a link that works in a browser
    submission = html.split('id="submission-file"')[1].split("</p>")[0]
    for shown in (
        "final-design.pdf",
        str(deliverable.size),
        deliverable.cid,
        deliverable.sha256,
        f'href="/api/files/{deliverable.cid}"',
        "Pin: pinned",
    ):
        assert shown in submission, shown
    evidence = html.split('id="evidence-client"')[1].split('id="evidence-freelancer"')[0]
    assert "Pin: failed (401 Unauthorized)" in evidence
    assert body["submissionCid"] == deliverable.cid
    assert body["files"][deliverable.cid]["pinStatus"] == "pinned"
    assert body["files"][deliverable.cid]["url"] == f"/api/files/{deliverable.cid}"
    assert (body["files"][log.cid]["pinStatus"], body["files"][log.cid]["pinError"]) == (
        "failed",
        "401 Unauthorized",
    )


def test_an_ipfs_submission_of_bytes_never_uploaded_here_says_so(offline):
    project = active_project()
    cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    project.milestones.filter(number=1).update(submission_link=f"ipfs://{cid}")
    html, _ = _page(file(project, 1, notify=False))
    assert cid in html and "not uploaded here" in html


def test_an_aborted_resolution_call_shows_as_failed_with_the_contracts_error(hiro, api):
    project, dispute = disputed_on_chain(hiro, api)
    # a reviewer who is not the contract owner broadcast the call: the chain aborted it (u113)
    aborted = hiro.chain.tx(
        "admin-resolve-dispute-stx",
        sender=CLIENT,
        args=[uint(1), uint(2), bool_(True)],
        error=113,
    )
    hiro.chain.mine(aborted)
    sync(api)
    browser = Client()
    browser.force_login(reviewer())
    body = {"txId": aborted.tx_id, "rationale": "Delivered.", "releaseToFreelancer": True}
    recorded = browser.post(
        f"/admin/projects/dispute/{dispute.pk}/resolution/",
        json.dumps(body),
        content_type="application/json",
    )
    assert recorded.status_code == 200
    # when
    with indexer_settings(hiro):
        html, _ = _page(dispute)
    # then: failed, named; the dispute is still open on chain, so a new attempt is offered
    attempts = html.split('id="resolution-attempts"')[1].split("</table>")[0]
    assert "failed" in attempts and "ERR-NOT-OWNER (u113)" in attempts
    assert "waiting for the indexer" not in attempts
    assert 'id="resolve-button"' in html and 'id="attempt-pending"' not in html
    # the page names the only wallet that can sign (the deployer, no ownership transfer seen)
    assert f'<code id="contract-owner">{hiro.chain.deployer}</code>' in html


def test_a_pending_attempt_is_flagged_and_no_waiting_text_once_closed_otherwise(offline):
    project = active_project()
    dispute = file(project, 1, notify=False)
    browser = Client()
    browser.force_login(reviewer())
    body = {"txId": "0x" + "cd" * 32, "rationale": "Refund.", "releaseToFreelancer": False}
    browser.post(
        f"/admin/projects/dispute/{dispute.pk}/resolution/",
        json.dumps(body),
        content_type="application/json",
    )
    open_html, _ = _page(dispute)
    assert "pending: waiting for the indexer" in open_html
    # when: the client paid the milestone instead
    close(project, tx_id="0x" + "ef" * 32, in_favor_of="freelancer", reason="milestone-released")
    html, _ = _page(dispute)
    # then
    assert "waiting for the indexer" not in html
    assert 'id="closing-warning"' in html and "milestone-released" in html
    assert 'id="resolve-form"' not in html


def test_the_review_page_has_a_content_security_policy(offline):
    _, headers = _page(file(active_project(), 1, notify=False))
    policy = dict(
        part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy["script-src"]
