"""The reviewers' side: the admin API's live on-chain state against the loopback Hiro API (with
the disagreement flagged), and the review panel in the Django admin (who sees it, what it shows,
recording the broadcast resolution)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from chainsync.models import ContractSettings
from projects import services
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, SBTC_TOKEN
from tests.chainsync.scenarios import indexer_settings
from tests.factories import ProposalFactory, UserFactory, make_address
from tests.projects.disputes import (
    FILED_AT,
    active_project,
    close,
    disputed_on_chain,
    file,
    reviewer,
)

pytestmark = pytest.mark.django_db


# --- the live on-chain state (GET /api/admin/disputes/:id) --------------------------------------


def test_the_live_state_agrees_with_the_database_after_the_indexer_ran(hiro, api, client_for):
    project, dispute = disputed_on_chain(hiro, api)
    # when
    with indexer_settings(hiro):
        body = client_for(reviewer()).get(f"/api/admin/disputes/{dispute.pk}").json()
    # then
    chain = body["chain"]
    assert chain["available"] is True and chain["error"] is None
    assert chain["inSync"] is True and chain["disagreements"] == []
    assert (chain["dispute"]["status"], chain["dispute"]["filedBy"]) == ("open", CLIENT)
    assert chain["project"]["client"] == CLIENT and chain["milestone"]["number"] == 2
    on_chain = [e["kind"] for e in body["timeline"] if e["source"] == "chain"]
    assert on_chain == ["project-created", "dispute-filed"]
    assert body["project"]["status"] == "disputed"


def test_a_chain_the_database_has_not_caught_up_with_is_flagged(hiro, api, client_for):
    _, dispute = disputed_on_chain(hiro, api)
    # when: the owner resolves it on chain, and the indexer has not run since
    hiro.escrow.resolve_dispute_stx(project_id=1, milestone=2, to_freelancer=True)
    with indexer_settings(hiro):
        body = client_for(reviewer()).get(f"/api/admin/disputes/{dispute.pk}").json()
    # then
    chain = body["chain"]
    assert chain["inSync"] is False
    assert {"field": "dispute.status", "database": "open", "chain": "resolved"} in chain[
        "disagreements"
    ]


# --- the review panel in the Django admin --------------------------------------------------------


def _admin(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_only_reviewers_see_the_panel(hiro, api):
    dispute = file(active_project(), 1)
    staff = UserFactory(is_staff=True)
    assert _admin(staff).get("/admin/projects/dispute/").status_code == 403
    assert _admin(staff).get(f"/admin/projects/dispute/{dispute.pk}/review/").status_code == 403
    index = _admin(staff).get("/admin/").content.decode()
    assert "/admin/projects/dispute/" not in index
    anonymous = Client().get(f"/admin/projects/dispute/{dispute.pk}/review/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["location"]
    # a reviewer sees the list and the page
    staff_reviewer = reviewer()
    assert "/admin/projects/dispute/" in _admin(staff_reviewer).get("/admin/").content.decode()
    listing = _admin(staff_reviewer).get("/admin/projects/dispute/?status__exact=open&age=7d%2B")
    assert listing.status_code == 200
    assert f"Review #{dispute.pk}" in listing.content.decode()
    # evidence and agreements: reviewers read them, nobody edits them
    services.evidence_submit(
        dispute_id=dispute.pk, actor=dispute.project.client_address, description="x"
    )
    evidence = dispute.evidence.get()
    for url in ("/admin/projects/evidence/", "/admin/projects/agreement/"):
        assert _admin(staff).get(url).status_code == 403
        assert _admin(staff_reviewer).get(url).status_code == 200
    change = _admin(staff_reviewer).post(
        f"/admin/projects/evidence/{evidence.pk}/change/", {"description": "edited"}
    )
    assert change.status_code == 403
    delete = _admin(staff_reviewer).post(
        f"/admin/projects/evidence/{evidence.pk}/delete/", {"post": "yes"}
    )
    assert delete.status_code == 403
    evidence.refresh_from_db()
    assert evidence.description == "x"


def test_the_list_shows_status_age_amount_and_token_and_filters(settings):
    settings.CHAINSYNC = {**settings.CHAINSYNC, "STACKS_API_URL": "http://127.0.0.1:9"}
    stx, sbtc = active_project(), active_project(token="sBTC")
    old = file(stx, 1, filed_at=FILED_AT)
    file(sbtc, 2)
    browser = _admin(reviewer())
    page = browser.get("/admin/projects/dispute/").content.decode()
    # amounts in tokens with their unit, the base units on hover
    assert stx.milestones.get(number=1).amount == 10_000_000
    assert '<span class="amount" title="10,000,000 micro-STX">10 STX</span>' in page
    assert '<span class="amount" title="10,000,000 sats">0.1 sBTC</span>' in page
    only_sbtc = browser.get("/admin/projects/dispute/?project__token=sBTC").content.decode()
    assert f"Review #{old.pk}<" not in only_sbtc
    over_a_week = browser.get("/admin/projects/dispute/?age=7d%2B").content.decode()
    assert f"Review #{old.pk}<" in over_a_week
    # amounts: 10 STX (small) and 0.1 sBTC (medium)
    small = browser.get("/admin/projects/dispute/?amount=small").content.decode()
    medium = browser.get("/admin/projects/dispute/?amount=medium").content.decode()
    large = browser.get("/admin/projects/dispute/?amount=large").content.decode()
    assert f"Review #{old.pk}<" in small and f"Review #{old.pk}<" not in medium
    assert "0.1 sBTC</span>" in medium
    assert "0.1 sBTC</span>" not in small
    assert "Review #" not in large


def test_the_review_page_shows_agreement_submission_evidence_timeline_and_chain(hiro, api):
    project, dispute = disputed_on_chain(hiro, api)
    proposal = ProposalFactory(
        project=project, freelancer_address=project.freelancer_address, cover_letter="I will."
    )
    services.agreement_freeze(project=project, proposal=proposal)
    project.milestones.filter(number=2).update(submission_link="https://github.com/f/pr/7")
    services.evidence_submit(
        dispute_id=dispute.pk, actor=project.client_address, description="Client says no."
    )
    services.evidence_submit(
        dispute_id=dispute.pk,
        actor=project.freelancer_address,
        description="Freelancer says yes.",
        file=services.EvidenceFile("bafkreiqqq", "ab" * 32, "proof.png", 5),
    )
    hiro.escrow.resolve_dispute_stx(project_id=1, milestone=2, to_freelancer=False)
    # when
    with indexer_settings(hiro):
        page = _admin(reviewer()).get(f"/admin/projects/dispute/{dispute.pk}/review/")
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        project.agreement.sha256 in html
        and "(the stored document matches this hash)" in html
        and "I will." in html
    )
    assert "https://github.com/f/pr/7" in html
    client_col = html.split('id="evidence-client"')[1].split('id="evidence-freelancer"')[0]
    assert "Client says no." in client_col and "Freelancer says yes." not in client_col
    assert "bafkreiqqq" in html and "ab" * 32 in html and 'href="/api/files/bafkreiqqq"' in html
    assert "dispute-filed" in html and "Evidence from the freelancer" in html
    assert 'id="chain-warning"' in html and "dispute.status" in html
    # the contract's dispute is resolved already: a resolve call would abort, none is offered
    assert 'id="resolve-blocked"' in html and 'id="resolve-button"' not in html
    assert "The contract&#x27;s dispute is resolved, not open" in html
    assert "vendor/stacks-connect.js" in html


def test_an_sbtc_dispute_needs_the_token_contract(settings):
    settings.CHAINSYNC = {**settings.CHAINSYNC, "STACKS_API_URL": "http://127.0.0.1:9"}
    dispute = file(active_project(token="sBTC"), 1)
    browser = _admin(reviewer())
    page = browser.get(f"/admin/projects/dispute/{dispute.pk}/review/").content.decode()
    assert 'id="call-problem"' in page and 'id="resolve-form"' not in page
    ContractSettings.objects.create(contract_id=ESCROW_CONTRACT, sbtc_contract=SBTC_TOKEN)
    settings.CHAINSYNC = {**settings.CHAINSYNC, "ESCROW_CONTRACT_ID": ESCROW_CONTRACT}
    page = browser.get(f"/admin/projects/dispute/{dispute.pk}/review/").content.decode()
    assert "admin-resolve-dispute-sbtc" in page and SBTC_TOKEN in page


def test_the_broadcast_resolution_is_recorded_with_the_rationale(settings):
    dispute = file(active_project(), 1)
    staff = reviewer()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    url = f"/admin/projects/dispute/{dispute.pk}/resolution/"
    body = {"txId": "0x" + "9a" * 32, "rationale": "Delivered.", "releaseToFreelancer": True}
    # without the CSRF token: refused
    assert browser.post(url, json.dumps(body), content_type="application/json").status_code == 403
    browser.get("/admin/")  # sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    # when
    response = browser.post(
        url, json.dumps(body), content_type="application/json", headers={"x-csrftoken": token}
    )
    # then
    assert response.status_code == 200, response.content
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_tx_id, dispute.rationale) == (
        "open",
        "0x" + "9a" * 32,
        "Delivered.",
    )
    assert response.json()["resolutionBy"] == staff.address


def test_the_resolution_tx_id_is_stored_lower_case_as_the_indexer_stores_it():
    dispute = file(active_project(), 1)
    body = {"txId": "0x" + "AB" * 32, "rationale": "Refund.", "releaseToFreelancer": False}
    # when
    response = _admin(reviewer()).post(
        f"/admin/projects/dispute/{dispute.pk}/resolution/",
        json.dumps(body),
        content_type="application/json",
    )
    # then
    assert response.status_code == 200, response.content
    assert response.json()["resolutionTxId"] == "0x" + "ab" * 32
    dispute.refresh_from_db()
    assert dispute.resolution_tx_id == "0x" + "ab" * 32


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"txId": "0x12", "rationale": "x", "releaseToFreelancer": True}, 400, "validation_error"),
        ({"txId": "0x" + "1" * 64, "rationale": "", "releaseToFreelancer": True}, 400, None),
        ({"txId": "0x" + "1" * 64, "rationale": "x"}, 400, "validation_error"),
        ("not json", 400, "parse_error"),
        ("[" * 50_000 + "]" * 50_000, 400, "parse_error"),  # deeper than the recursion limit
        ({"txId": "0x" + "1" * 64, "rationale": "x", "releaseToFreelancer": "yes"}, 400, None),
        ({"txId": "0x" + "1" * 64, "rationale": "x", "releaseToFreelancer": 1}, 400, None),
        ({"txId": "0x" + "1" * 64, "rationale": "x", "releaseToFreelancer": "false"}, 400, None),
    ],
)
def test_a_bad_resolution_record_is_a_400(body, status, code):
    dispute = file(active_project(), 1)
    browser = _admin(reviewer())
    raw = body if isinstance(body, str) else json.dumps(body)
    response = browser.post(
        f"/admin/projects/dispute/{dispute.pk}/resolution/", raw, content_type="application/json"
    )
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "details"}
    if code:
        assert response.json()["error"]["code"] == code
    dispute.refresh_from_db()
    assert dispute.resolution_tx_id == ""


def test_a_resolution_is_recorded_by_reviewers_only_and_while_open():
    project = active_project()
    dispute = file(project, 1)
    body = json.dumps({"txId": "0x" + "1" * 64, "rationale": "x", "releaseToFreelancer": False})
    url = f"/admin/projects/dispute/{dispute.pk}/resolution/"
    staff = _admin(UserFactory(is_staff=True))
    assert staff.post(url, body, content_type="application/json").status_code == 403
    close(project)
    closed = _admin(reviewer()).post(url, body, content_type="application/json")
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "dispute_not_open"
    assert _admin(reviewer()).get(url).status_code == 405
    missing = _admin(reviewer()).post(
        "/admin/projects/dispute/999999/resolution/", body, content_type="application/json"
    )
    assert missing.status_code == 404
    assert make_address()  # (addresses stay valid testnet ones)
