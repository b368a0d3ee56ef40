"""The reviewers' resolution attempts (finding 3): every broadcast is kept, and the parties see a
rationale only when the chain resolved the dispute in that attempt's transaction, with that
attempt's decision; a rationale written for an outcome that did not happen is never published."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from projects.models import Dispute, Project
from tests.projects.disputes import active_project, close, file, reviewer
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db

TX_A, TX_B = "0x" + "ab" * 32, "0x" + "cd" * 32


def _record(dispute: Dispute, tx: str, release: bool, rationale: str, who=None):
    browser = Client()
    browser.force_login(who or reviewer())
    body = {"txId": tx, "rationale": rationale, "releaseToFreelancer": release}
    return browser.post(
        f"/admin/projects/dispute/{dispute.pk}/resolution/",
        json.dumps(body),
        content_type="application/json",
    )


@pytest.fixture
def project() -> Project:
    return active_project()


@pytest.fixture
def dispute(project: Project) -> Dispute:
    return file(project, 1, notify=False)


def test_every_attempt_is_kept_and_the_same_tx_is_recorded_once(client_for, dispute):
    first = _record(dispute, TX_A.upper().replace("0X", "0x"), True, "because")
    second = _record(dispute, TX_B, False, "changed my mind")
    again = _record(dispute, TX_A, False, "replay")
    # then
    assert first.status_code == second.status_code == 200
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "resolution_already_recorded"
    seen = client_for(reviewer()).get(f"/api/disputes/{dispute.pk}").json()
    assert [
        (a["txId"], a["releaseToFreelancer"], a["rationale"]) for a in seen["resolutionAttempts"]
    ] == [
        (TX_A, True, "because"),
        (TX_B, False, "changed my mind"),
    ]
    assert (seen["resolutionTxId"], seen["rationale"]) == (TX_B, "changed my mind")  # the latest


def test_the_parties_see_the_rationale_of_the_attempt_that_resolved_it(
    client_for, project, dispute
):
    _record(dispute, TX_A, True, "The work was delivered.")
    _record(dispute, TX_B, False, "A refund after all.")
    # when: the chain resolved it in the first attempt's transaction, for the freelancer
    close(project, tx_id=TX_A, reason="dispute-resolved", in_favor_of="freelancer")
    # then
    for party in (project.client_address, project.freelancer_address):
        body = client_for(party).get(f"/api/disputes/{dispute.pk}").json()
        assert (body["status"], body["rationale"]) == ("resolved", "The work was delivered.")
        assert "resolutionAttempts" not in body


def test_no_rationale_is_published_when_the_chain_closed_it_otherwise(client_for, project, dispute):
    _record(dispute, TX_B, False, "changed my mind")
    # when: the client released the milestone: the dispute closed without any attempt
    close(project, tx_id="0x" + "ef" * 32, reason="milestone-released", in_favor_of="freelancer")
    # then
    body = client_for(project.client_address).get(f"/api/disputes/{dispute.pk}").json()
    assert (body["status"], body["closeReason"], body["rationale"]) == (
        "resolved",
        "milestone-released",
        None,
    )


def test_no_rationale_is_published_when_the_decision_differs_from_the_chains(
    client_for, project, dispute
):
    _record(dispute, TX_A, False, "Refund the client.")
    close(project, tx_id=TX_A, reason="dispute-resolved", in_favor_of="freelancer")
    body = client_for(project.freelancer_address).get(f"/api/disputes/{dispute.pk}").json()
    assert body["rationale"] is None


def test_a_non_reviewer_cannot_record_an_attempt(dispute):
    from tests.factories import UserFactory

    response = _record(dispute, TX_A, True, "x", who=UserFactory(is_staff=True))
    assert response.status_code == 403
    assert not dispute.resolution_attempts.exists()


def test_the_party_list_shows_the_same_rationale(client_for, project, dispute):
    _record(dispute, TX_A, True, "Delivered.")
    close(project, tx_id=TX_A, reason="dispute-resolved", in_favor_of="freelancer")
    listing = client_for(project.client_address).get(f"/api/projects/{project.pk}/disputes")
    assert listing.json()["results"][0]["rationale"] == "Delivered."
    assert_error(client_for(project.client_address).get("/api/disputes/999999"), 404)
