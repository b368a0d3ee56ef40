"""The dispute endpoints, for every kind of caller: a party, another signed-in user, anonymous,
and a dispute reviewer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings

from files.models import StoredFile
from projects import services
from projects.models import Dispute, Project
from tests.factories import UserFactory, make_address
from tests.projects.disputes import FILED_AT, active_project, close, file, reviewer
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db

UNREACHABLE = {"STACKS_API_URL": "http://127.0.0.1:9", "STACKS_API_MAX_RETRIES": 0}


@pytest.fixture
def project() -> Project:
    return active_project()


@pytest.fixture
def dispute(project: Project) -> Dispute:
    return file(project, 1, by=project.client_address)


@pytest.fixture
def callers(client_for, anon, project) -> dict[str, Any]:
    return {
        "client": client_for(project.client_address),
        "freelancer": client_for(project.freelancer_address),
        "other": client_for(make_address()),
        "anonymous": anon,
        "reviewer": client_for(reviewer()),
        "staff": client_for(UserFactory(is_staff=True)),  # staff, not a reviewer
    }


# --- GET /api/projects/:id/disputes and /api/disputes/:id ---------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("client", 200), ("freelancer", 200), ("reviewer", 200), ("other", 403), ("staff", 403)],
)
def test_a_projects_disputes_are_seen_by_its_parties_and_reviewers(
    callers, project, dispute, who, status
):
    response = callers[who].get(f"/api/projects/{project.pk}/disputes")
    if status != 200:
        assert_error(response, status, "not_project_party")
        return
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == dispute.pk
    assert body["results"][0]["milestone"] == 1


def test_a_projects_disputes_need_sign_in_and_a_project(callers, project, dispute):
    assert_error(callers["anonymous"].get(f"/api/projects/{project.pk}/disputes"), 401)
    assert_error(callers["client"].get("/api/projects/999999/disputes"), 404)


def test_the_dispute_list_costs_the_same_for_any_number(
    callers, project, django_assert_num_queries
):
    for number in (1, 2):
        file(project, number)
    # the project, the count, the page (projects joined), the evidence, the statements
    with django_assert_num_queries(5):
        response = callers["client"].get(f"/api/projects/{project.pk}/disputes")
    assert response.json()["count"] == 2


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("client", 200),
        ("freelancer", 200),
        ("reviewer", 200),
        ("other", 404),  # as if it did not exist: dispute ids cannot be enumerated
        ("staff", 404),
        ("anonymous", 401),
    ],
)
def test_a_dispute_is_seen_by_its_parties_and_reviewers(callers, project, dispute, who, status):
    response = callers[who].get(f"/api/disputes/{dispute.pk}")
    assert response.status_code == status, response.content
    if status == 200:
        body = response.json()
        assert body["status"] == "open"
        assert body["filedBy"] == project.client_address
        assert body["filedTxId"] == dispute.filed_tx_id
        assert body["evidence"] == []
        assert ("resolutionTxId" in body) == (who == "reviewer")


def test_an_unknown_dispute_is_404(callers):
    assert_error(callers["reviewer"].get("/api/disputes/424242"), 404, "not_found")


# --- PUT /api/disputes/:id/statement ------------------------------------------------------------


def test_each_party_puts_its_own_statement_and_both_see_both(callers, dispute):
    url = f"/api/disputes/{dispute.pk}/statement"
    # when: the client writes, the freelancer writes, then rewrites
    first = callers["client"].put(url, {"statement": "Nothing arrived."}, format="json")
    assert first.status_code == 201, first.content
    assert callers["freelancer"].put(url, {"statement": "Sent."}, format="json").status_code == 201
    again = callers["freelancer"].put(url, {"statement": "Sent on the 3rd."}, format="json")
    # then
    assert again.status_code == 200, again.content
    for who in ("client", "freelancer", "reviewer"):
        statements = callers[who].get(f"/api/disputes/{dispute.pk}").json()["statements"]
        assert statements["client"]["text"] == "Nothing arrived."
        assert statements["client"]["author"] == dispute.project.client_address
        assert statements["freelancer"]["text"] == "Sent on the 3rd."
        assert statements["freelancer"]["updatedAt"] > statements["freelancer"]["createdAt"]
    listed = callers["client"].get(f"/api/projects/{dispute.project_id}/disputes").json()
    assert listed["results"][0]["statements"]["freelancer"]["text"] == "Sent on the 3rd."


def test_a_dispute_without_statements_shows_both_sides_empty(callers, dispute):
    body = callers["client"].get(f"/api/disputes/{dispute.pk}").json()
    assert body["statements"] == {"client": None, "freelancer": None}


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("other", 404, "not_found"),
        ("staff", 404, "not_found"),
        ("reviewer", 403, "not_project_party"),
        ("anonymous", 401, "not_authenticated"),
    ],
)
def test_nobody_but_the_parties_puts_a_statement(callers, dispute, who, status, code):
    response = callers[who].put(
        f"/api/disputes/{dispute.pk}/statement", {"statement": "mine"}, format="json"
    )
    assert_error(response, status, code)
    assert not dispute.statements.exists()


def test_a_statement_must_be_text_with_no_other_field_and_the_dispute_open(
    callers, project, dispute
):
    url = f"/api/disputes/{dispute.pk}/statement"
    client = callers["client"]
    assert_error(client.put(url, {"statement": ""}, format="json"), 400, field="statement")
    assert_error(client.put(url, {}, format="json"), 400, field="statement")
    assert_error(client.put(url, {"statement": "x" * 5001}, format="json"), 400, field="statement")
    assert_error(
        client.put(url, {"statement": "x", "party": "freelancer"}, format="json"),
        400,
        field="party",
    )
    assert_error(client.put(url, ["x"], format="json"), 400)
    assert_error(
        client.put("/api/disputes/424242/statement", {"statement": "x"}, format="json"), 404
    )
    close(project)
    assert_error(client.put(url, {"statement": "late"}, format="json"), 409, "dispute_not_open")
    assert not dispute.statements.exists()


def test_the_old_post_is_not_a_way_to_write_a_statement(callers, dispute):
    response = callers["client"].post(
        f"/api/disputes/{dispute.pk}/statement", {"statement": "x"}, format="json"
    )
    assert_error(response, 405)


def test_the_statement_endpoint_is_documented_with_its_errors(anon):
    schema = anon.get("/api/schema/", {"format": "json"}).json()
    put = schema["paths"]["/api/disputes/{dispute_id}/statement"]["put"]
    assert set(put["responses"]) == {
        *("200", "201", "400", "401", "403", "404", "409", "413", "415", "422")
    }
    for status in ("400", "401", "403", "404", "409", "422"):
        envelope = put["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert envelope.endswith("/Error")  # the one error envelope
    body = put["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert schema["components"]["schemas"][body]["required"] == ["statement"]
    dispute = schema["components"]["schemas"]["DisputeOutput"]["properties"]
    assert "statements" in dispute and "statement" not in dispute


# --- POST /api/disputes/:id/evidence ------------------------------------------------------------


@pytest.mark.parametrize("who", ["client", "freelancer"])
def test_each_party_adds_evidence(callers, project, dispute, who):
    response = callers[who].post(
        f"/api/disputes/{dispute.pk}/evidence",
        {"description": "See the PR.", "links": ["https://github.com/me/x/pull/2"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    address = project.client_address if who == "client" else project.freelancer_address
    assert (body["submittedBy"], body["description"], body["links"], body["file"]) == (
        address,
        "See the PR.",
        ["https://github.com/me/x/pull/2"],
        None,
    )
    assert callers[who].get(f"/api/disputes/{dispute.pk}").json()["evidence"][0]["id"] == body["id"]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("other", 404, "not_found"),
        ("reviewer", 403, "not_project_party"),
        ("anonymous", 401, "not_authenticated"),
    ],
)
def test_nobody_but_the_parties_adds_evidence(callers, dispute, who, status, code):
    response = callers[who].post(
        f"/api/disputes/{dispute.pk}/evidence", {"description": "x"}, format="json"
    )
    assert_error(response, status, code)
    assert dispute.evidence.count() == 0


def test_evidence_only_while_the_dispute_is_open(callers, project, dispute):
    close(project)
    response = callers["freelancer"].post(
        f"/api/disputes/{dispute.pk}/evidence", {"description": "late"}, format="json"
    )
    assert_error(response, 409, "dispute_not_open")


def test_evidence_past_the_per_party_limit_is_a_409(callers, dispute, monkeypatch):
    from projects.services import disputes as dispute_services

    monkeypatch.setattr(dispute_services, "MAX_EVIDENCE_PER_PARTY", 2)
    url = f"/api/disputes/{dispute.pk}/evidence"
    for n in range(2):
        response = callers["client"].post(url, {"description": f"{n}"}, format="json")
        assert response.status_code == 201
    # when
    response = callers["client"].post(url, {"description": "more"}, format="json")
    # then
    assert_error(response, 409, "evidence_limit_reached")
    assert response.json()["error"]["details"] == {"limit": 2}
    assert callers["freelancer"].post(url, {"description": "x"}, format="json").status_code == 201


def test_evidence_is_immutable(callers, project, dispute):
    created = (
        callers["client"]
        .post(f"/api/disputes/{dispute.pk}/evidence", {"description": "v1"}, format="json")
        .json()
    )
    url = f"/api/disputes/{dispute.pk}/evidence"
    for method in ("put", "patch", "delete"):
        assert_error(
            getattr(callers["client"], method)(url, {"description": "v2"}, format="json"), 405
        )
    assert dispute.evidence.get().description == created["description"] == "v1"


def test_evidence_input_is_validated(callers, dispute):
    url = f"/api/disputes/{dispute.pk}/evidence"
    post: Callable = callers["client"].post
    assert_error(post(url, {}, format="json"), 400, field="description")
    assert_error(
        post(url, {"description": "x", "links": ["not a url"]}, format="json"), 422, field="links"
    )
    assert_error(
        post(url, {"description": "x", "links": ["https://a.example"] * 21}, format="json"),
        400,
        field="links",
    )
    for bad in ("not-a-cid", "b", "z", "f", "\x00"):
        assert_error(
            post(url, {"description": "x", "fileCid": bad}, format="json"), 422, field="fileCid"
        )
    assert_error(
        post(url, {"description": "x", "submittedBy": "me"}, format="json"),
        400,
        field="submittedBy",
    )
    assert_error(post("/api/disputes/424242/evidence", {"description": "x"}, format="json"), 404)


def test_evidence_with_an_uploaded_file_copies_its_cid_and_sha256(callers, project, dispute):
    stored = StoredFile.objects.create(
        cid="bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        sha256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        size=0,
        name="empty.txt",
        content_type="text/plain",
        uploaded_by=project.freelancer_address,
        storage_name="x",
    )
    # when
    response = callers["freelancer"].post(
        f"/api/disputes/{dispute.pk}/evidence",
        {"description": "The log.", "fileCid": stored.cid},
        format="json",
    )
    # then
    assert response.status_code == 201, response.content
    assert response.json()["file"] == {
        "cid": stored.cid,
        "sha256": stored.sha256,
        "name": "empty.txt",
        "size": 0,
        "url": f"/api/files/{stored.cid}",
    }


def test_evidence_naming_an_unknown_file_is_a_422_on_file_cid(callers, dispute):
    body = {
        "description": "x",
        "fileCid": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    }
    url = f"/api/disputes/{dispute.pk}/evidence"
    # a 422 on the field (a 404 would read as "no such dispute")
    assert_error(callers["client"].post(url, body, format="json"), 422, field="fileCid")
    # the party check comes first: a stranger learns nothing about files
    assert_error(callers["other"].post(url, body, format="json"), 404, "not_found")
    assert_error(callers["reviewer"].post(url, body, format="json"), 403, "not_project_party")
    assert dispute.evidence.count() == 0


# --- GET /api/admin/disputes ---------------------------------------------------------------------


def test_reviewers_list_disputes_oldest_first_with_amount_and_token(callers, project):
    sbtc = active_project(token="sBTC")
    newer = file(project, 2, filed_at=FILED_AT.replace(day=21))
    older = file(sbtc, 1, filed_at=FILED_AT.replace(day=19))
    # when
    body = callers["reviewer"].get("/api/admin/disputes?status=open").json()
    # then
    assert [d["id"] for d in body["results"]] == [older.pk, newer.pk]
    first = body["results"][0]
    assert (first["token"], first["amount"], first["projectTitle"]) == (
        "sBTC",
        sbtc.milestones.get(number=1).amount,
        sbtc.title,
    )
    only_sbtc = callers["reviewer"].get("/api/admin/disputes?token=sBTC").json()
    assert [d["id"] for d in only_sbtc["results"]] == [older.pk]
    close(sbtc)
    still_open = callers["reviewer"].get("/api/admin/disputes?status=open").json()
    assert [d["id"] for d in still_open["results"]] == [newer.pk]
    by_project = callers["reviewer"].get(f"/api/admin/disputes?project={sbtc.pk}").json()
    assert [d["id"] for d in by_project["results"]] == [older.pk]


@pytest.mark.parametrize(
    ("who", "status"), [("client", 403), ("other", 403), ("staff", 403), ("anonymous", 401)]
)
def test_only_reviewers_list_disputes(callers, dispute, who, status):
    assert_error(callers[who].get("/api/admin/disputes"), status)
    assert_error(callers[who].get(f"/api/admin/disputes/{dispute.pk}"), status)


def test_admin_filters_are_validated(callers):
    assert_error(callers["reviewer"].get("/api/admin/disputes?status=closed"), 400, field="status")
    assert_error(callers["reviewer"].get("/api/admin/disputes?token=ETH"), 400, field="token")
    assert_error(callers["reviewer"].get("/api/admin/disputes?project=x"), 400, field="project")
    assert_error(callers["reviewer"].get("/api/admin/disputes?sort=age"), 400, field="sort")


# --- GET /api/admin/disputes/:id ----------------------------------------------------------------


@override_settings()
def test_a_reviewer_sees_the_whole_dispute_even_when_the_chain_cannot_be_read(
    callers, project, dispute, settings
):
    settings.CHAINSYNC = {**settings.CHAINSYNC, **UNREACHABLE}
    project.milestones.filter(number=1).update(submission_link="https://github.com/me/x/pull/1")
    services.evidence_submit(dispute_id=dispute.pk, actor=project.client_address, description="C")
    services.evidence_submit(
        dispute_id=dispute.pk, actor=project.freelancer_address, description="F"
    )
    # when
    response = callers["reviewer"].get(f"/api/admin/disputes/{dispute.pk}")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dispute"]["id"] == dispute.pk
    assert body["project"]["id"] == project.pk
    assert body["milestone"]["submissionLink"] == "https://github.com/me/x/pull/1"
    assert [e["description"] for e in body["evidence"]["client"]] == ["C"]
    assert [e["description"] for e in body["evidence"]["freelancer"]] == ["F"]
    assert body["agreement"] is None  # this project was never accepted through a proposal
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[0] == "project-posted" and kinds.count("evidence") == 2
    assert body["chain"]["available"] is False
    assert "could not be read" in body["chain"]["error"]


def test_an_unknown_dispute_is_404_for_reviewers(callers):
    assert_error(callers["reviewer"].get("/api/admin/disputes/424242"), 404)
