from __future__ import annotations

import pytest

from notifications.models import Notification
from projects.models import Project
from proposals.models import Proposal
from tests.factories import ProjectFactory, ProposalFactory, make_address
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db

PROPOSAL = {
    "coverLetter": "I have shipped three of these.",
    "proposedBudget": 18_000_000,
    "proposedDuration": 10,
    "portfolioLinks": ["https://github.com/me/thing"],
}


def test_freelancer_sends_a_proposal_and_the_client_is_notified(client_for):
    project = ProjectFactory()
    freelancer = make_address()
    response = client_for(freelancer).post(
        f"/api/projects/{project.pk}/proposals", PROPOSAL, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["freelancerAddress"] == freelancer
    assert body["status"] == "pending"
    assert body["proposedBudget"] == 18_000_000
    assert body["portfolioLinks"] == ["https://github.com/me/thing"]
    note = Notification.objects.get(recipient=project.client_address)
    assert note.type == "proposal_received" and note.project_id == project.pk


def test_proposal_body_may_name_the_signed_in_freelancer_only(client_for):
    project = ProjectFactory()
    freelancer = make_address()
    ok = client_for(freelancer).post(
        f"/api/projects/{project.pk}/proposals",
        {**PROPOSAL, "freelancerAddress": freelancer},
        format="json",
    )
    assert ok.status_code == 201
    other = client_for(make_address()).post(
        f"/api/projects/{project.pk}/proposals",
        {**PROPOSAL, "freelancerAddress": make_address()},
        format="json",
    )
    assert_error(other, 403, "freelancer_mismatch")


def test_one_proposal_per_freelancer_per_project(client_for):
    project = ProjectFactory()
    api = client_for(make_address())
    assert (
        api.post(f"/api/projects/{project.pk}/proposals", PROPOSAL, format="json").status_code
        == 201
    )
    again = api.post(f"/api/projects/{project.pk}/proposals", PROPOSAL, format="json")
    assert_error(again, 409, "already_proposed")
    assert Proposal.objects.count() == 1


def test_no_proposal_to_own_project(client_for):
    project = ProjectFactory()
    response = client_for(project.client_address).post(
        f"/api/projects/{project.pk}/proposals", PROPOSAL, format="json"
    )
    assert_error(response, 403, "own_project")


@pytest.mark.parametrize("status", ["pending", "active", "cancelled", "completed"])
def test_proposals_only_to_open_projects(client_for, status):
    project = ProjectFactory(status=status)
    response = client_for(make_address()).post(
        f"/api/projects/{project.pk}/proposals", PROPOSAL, format="json"
    )
    assert_error(response, 409, "invalid_transition")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"coverLetter": ""}, "coverLetter"),
        ({"proposedBudget": 0}, "proposedBudget"),
        ({"proposedBudget": 1.5}, "proposedBudget"),
        ({"proposedDuration": 0}, "proposedDuration"),
        ({"proposedDuration": "7"}, "proposedDuration"),
        ({"portfolioLinks": "https://x.y"}, "portfolioLinks"),
        ({"status": "accepted"}, "status"),
    ],
)
def test_proposal_bad_input(client_for, change, field):
    project = ProjectFactory()
    response = client_for(make_address()).post(
        f"/api/projects/{project.pk}/proposals", {**PROPOSAL, **change}, format="json"
    )
    assert_error(response, 400, "validation_error", field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"portfolioLinks": ["not a url"]}, "portfolioLinks"),  # a string, but no URL
        ({"freelancerAddress": "SPnotanaddress"}, "freelancerAddress"),  # a bad checksum
    ],
)
def test_proposal_input_past_the_schema_is_a_422(client_for, change, field):
    project = ProjectFactory()
    response = client_for(make_address()).post(
        f"/api/projects/{project.pk}/proposals", {**PROPOSAL, **change}, format="json"
    )
    assert_error(response, 422, "unprocessable", field)


def test_proposal_requires_sign_in_and_an_existing_project(anon, client_for):
    project = ProjectFactory()
    assert_error(anon.post(f"/api/projects/{project.pk}/proposals", PROPOSAL, format="json"), 401)
    assert_error(
        client_for(make_address()).post("/api/projects/424242/proposals", PROPOSAL, format="json"),
        404,
    )


def test_client_sees_all_proposals_freelancer_only_their_own(client_for, anon):
    project = ProjectFactory()
    mine, theirs = ProposalFactory(project=project), ProposalFactory(project=project)
    ProposalFactory(project=project, status="rejected")
    url = f"/api/projects/{project.pk}/proposals"
    assert client_for(project.client_address).get(url).json()["count"] == 3
    assert client_for(project.client_address).get(f"{url}?status=pending").json()["count"] == 2
    own = client_for(mine.freelancer_address).get(url).json()
    assert [p["id"] for p in own["results"]] == [mine.pk]
    assert client_for(make_address()).get(url).json()["count"] == 0
    assert_error(anon.get(url), 401)
    assert_error(client_for(project.client_address).get(f"{url}?status=bogus"), 400)
    assert theirs.pk not in [p["id"] for p in own["results"]]


def test_freelancer_proposals_endpoint_is_scoped(client_for):
    freelancer = make_address()
    client_a = ProjectFactory()
    ProposalFactory(freelancer_address=freelancer, project=client_a)
    ProposalFactory(freelancer_address=freelancer)
    url = f"/api/freelancers/{freelancer}/proposals"
    assert client_for(freelancer).get(url).json()["count"] == 2
    assert client_for(client_a.client_address).get(url).json()["count"] == 1
    assert client_for(make_address()).get(url).json()["count"] == 0
    assert_error(
        client_for(freelancer).get("/api/freelancers/nope/proposals"), 404, "not_found"
    )


def test_accept_rejects_the_others_sets_the_freelancer_and_notifies(client_for):
    project = ProjectFactory()
    chosen, other1, other2 = ProposalFactory.create_batch(3, project=project)
    response = client_for(project.client_address).put(f"/api/proposals/{chosen.pk}/accept")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    project.refresh_from_db()
    assert project.status == Project.Status.PENDING
    assert project.freelancer_address == chosen.freelancer_address
    statuses = dict(Proposal.objects.values_list("pk", "status"))
    assert statuses == {chosen.pk: "accepted", other1.pk: "rejected", other2.pk: "rejected"}
    notes = {(n.recipient, n.type) for n in Notification.objects.all()}
    assert (chosen.freelancer_address, "proposal_accepted") in notes
    assert (other1.freelancer_address, "proposal_rejected") in notes
    assert (other2.freelancer_address, "proposal_rejected") in notes


def test_accept_rules(client_for, anon):
    project = ProjectFactory()
    proposal, second = ProposalFactory.create_batch(2, project=project)
    url = f"/api/proposals/{proposal.pk}/accept"
    assert_error(anon.put(url), 401)
    assert_error(client_for(proposal.freelancer_address).put(url), 403, "not_project_client")
    assert_error(client_for(make_address()).put(url), 403)
    assert_error(client_for(project.client_address).put("/api/proposals/9999/accept"), 404)
    assert client_for(project.client_address).put(url).status_code == 200
    again = client_for(project.client_address).put(f"/api/proposals/{second.pk}/accept")
    assert_error(again, 409, "invalid_transition")


def test_reject_and_withdraw(client_for):
    project = ProjectFactory()
    a, b = ProposalFactory.create_batch(2, project=project)
    client = client_for(project.client_address)
    assert_error(client_for(a.freelancer_address).put(f"/api/proposals/{a.pk}/reject"), 403)
    assert client.put(f"/api/proposals/{a.pk}/reject").json()["status"] == "rejected"
    assert_error(client.put(f"/api/proposals/{a.pk}/reject"), 409)
    assert Notification.objects.filter(
        recipient=a.freelancer_address, type="proposal_rejected"
    ).exists()
    # withdraw: only the freelancer, only while pending
    assert_error(client.put(f"/api/proposals/{b.pk}/withdraw"), 403, "not_proposal_freelancer")
    freelancer = client_for(b.freelancer_address)
    assert freelancer.put(f"/api/proposals/{b.pk}/withdraw").json()["status"] == "withdrawn"
    assert_error(freelancer.put(f"/api/proposals/{b.pk}/withdraw"), 409)
    assert_error(client_for(a.freelancer_address).put(f"/api/proposals/{a.pk}/withdraw"), 409)
    assert_error(client.put(f"/api/proposals/{b.pk}/accept"), 409)
    assert_error(freelancer.delete(f"/api/proposals/{b.pk}"), 405)  # a state, not a removal


def test_proposal_detail_visible_to_its_parties_only(client_for):
    proposal = ProposalFactory()
    url = f"/api/proposals/{proposal.pk}"
    assert client_for(proposal.freelancer_address).get(url).status_code == 200
    assert client_for(proposal.project.client_address).get(url).status_code == 200
    assert_error(client_for(make_address()).get(url), 404)
