from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Milestone, Project
from tests.factories import ProjectFactory, ReviewFactory, UserFactory, make_address

pytestmark = pytest.mark.django_db

NEW_PROJECT = {
    "title": "Landing page",
    "description": "A landing page for a DAO.",
    "category": "web",
    "skills": ["react", "clarity"],
    "token": "STX",
    "budget": 30_000_000,
    "milestones": [
        {"title": "Design", "amount": 10_000_000, "dueDate": "2027-01-10"},
        {"title": "Build", "description": "All of it", "amount": 20_000_000},
    ],
}


def assert_error(response, status: int, code: str | None = None, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    if field:
        assert field in body["error"]["details"], body
    return body["error"]


def test_create_project_returns_it_with_milestones(client_for, user):
    # when
    response = client_for(user).post("/api/projects", NEW_PROJECT, format="json")
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Landing page"
    assert body["status"] == "open"
    assert body["clientAddress"] == user.address
    assert body["freelancerAddress"] is None
    assert body["onChainId"] is None
    assert body["budget"] == 30_000_000
    assert [(m["number"], m["title"], m["amount"], m["status"]) for m in body["milestones"]] == [
        (1, "Design", 10_000_000, "locked"),
        (2, "Build", 20_000_000, "locked"),
    ]
    assert body["milestones"][0]["dueDate"] == "2027-01-10"
    assert body["createdAt"]
    assert Project.objects.get(pk=body["id"]).milestones.count() == 2


def test_create_project_requires_sign_in(anon):
    assert_error(anon.post("/api/projects", NEW_PROJECT, format="json"), 401, "not_authenticated")
    assert Project.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"milestones": []}, "milestones"),
        ({"milestones": [{"title": f"m{i}", "amount": 6_000_000} for i in range(5)]}, "milestones"),
        ({"token": "BTC"}, "token"),
        ({"budget": 1.5}, "budget"),
        ({"budget": -5}, "budget"),
        ({"budget": True}, "budget"),
        ({"budget": 2**70}, "budget"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"status": "active"}, "status"),
        ({"onChainId": 7}, "onChainId"),
        ({"clientAddress": make_address()}, "clientAddress"),
        ({"milestones": [{"title": "a", "amount": "ten"}]}, "milestones"),
        ({"milestones": [{"title": "a", "amount": 30_000_000, "dueDate": "soon"}]}, "milestones"),
        ({"skills": "react"}, "skills"),
    ],
)
def test_create_project_rejects_bad_input_naming_the_field(client_for, change, field):
    """400: the schema says no."""
    body = {**NEW_PROJECT, **change}
    error = assert_error(client_for(make_address()).post("/api/projects", body, format="json"), 400)
    assert field in error["details"] or field in error["message"], error
    assert Project.objects.count() == 0


def test_milestones_that_do_not_add_up_to_the_budget_are_a_422(client_for):
    body = {**NEW_PROJECT, "budget": 29_999_999}  # the schema cannot add up the milestones
    response = client_for(make_address()).post("/api/projects", body, format="json")
    assert_error(response, 422, "unprocessable", "milestones")
    assert Project.objects.count() == 0


def test_budget_may_be_a_string_of_digits(client_for):
    body = {
        **NEW_PROJECT,
        "budget": "30000000",
        "milestones": [{"title": "All", "amount": "30000000"}],
    }
    response = client_for(make_address()).post("/api/projects", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["budget"] == 30_000_000


def test_malformed_json_is_a_400(client_for):
    response = client_for(make_address()).generic(
        "POST", "/api/projects", "{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_list_projects_filters_and_paginates(anon):
    client = make_address()
    ProjectFactory.create_batch(3, client_address=client, token="STX")
    ProjectFactory(token="sBTC", title="Bitcoin bridge")
    ProjectFactory(status=Project.Status.CANCELLED)

    assert anon.get("/api/projects").json()["count"] == 5
    assert anon.get(f"/api/projects?client={client}").json()["count"] == 3
    assert anon.get("/api/projects?token=sBTC").json()["results"][0]["title"] == "Bitcoin bridge"
    assert anon.get("/api/projects?status=cancelled").json()["count"] == 1
    assert anon.get("/api/projects?search=bridge").json()["count"] == 1
    page = anon.get("/api/projects?pageSize=2&page=2").json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["page"] == 2
    assert page["next"] and page["previous"]


def test_list_projects_newest_first():
    first = ProjectFactory()
    second = ProjectFactory()
    from rest_framework.test import APIClient

    ids = [p["id"] for p in APIClient().get("/api/projects").json()["results"]]
    assert ids == [second.pk, first.pk]


@pytest.mark.parametrize(
    "query",
    [
        "status=nope",
        "token=ETH",
        "client=nope",
        "freelancer=SP000000000000000000002Q6VF78",
        "page=99",
        "pageSize=abc&page=x",
        "unknown=1",
    ],
)
def test_list_projects_bad_query_is_a_4xx(anon, query):
    ProjectFactory()
    response = anon.get(f"/api/projects?{query}")
    assert response.status_code in (400, 404, 422), response.content  # 422: a bad checksum
    assert "error" in response.json()


@pytest.mark.parametrize("page_size", [1, 5, 20])
def test_list_projects_runs_a_fixed_number_of_queries(anon, page_size):
    for _ in range(20):
        ProjectFactory(milestones=3)
    with CaptureQueriesContext(connection) as queries:
        response = anon.get(f"/api/projects?pageSize={page_size}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    assert all(len(p["milestones"]) == 3 for p in response.json()["results"])
    assert len(queries) == 3  # count, page, milestones


def test_get_project_and_404(anon):
    project = ProjectFactory(milestones=4)
    body = anon.get(f"/api/projects/{project.pk}").json()
    assert body["id"] == project.pk and len(body["milestones"]) == 4
    assert_error(anon.get("/api/projects/999999"), 404, "not_found")
    assert_error(anon.get("/api/projects/99999999999999999999999"), 404, "not_found")
    assert_error(anon.get("/api/projects/abc"), 404, "not_found")


def test_patch_project_by_client_while_open(client_for):
    project = ProjectFactory()
    response = client_for(project.client_address).patch(
        f"/api/projects/{project.pk}",
        {"title": "Better title", "skills": ["rust"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Better title"
    assert response.json()["skills"] == ["rust"]


def test_patch_project_replaces_milestones_and_budget(client_for):
    project = ProjectFactory()
    response = client_for(project.client_address).patch(
        f"/api/projects/{project.pk}",
        {"budget": 5, "milestones": [{"title": "a", "amount": 2}, {"title": "b", "amount": 3}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["budget"] == 5
    assert [m["amount"] for m in response.json()["milestones"]] == [2, 3]


def test_patch_budget_that_no_longer_matches_milestones_is_a_422(client_for):
    project = ProjectFactory()
    response = client_for(project.client_address).patch(
        f"/api/projects/{project.pk}", {"budget": 1}, format="json"
    )
    assert_error(response, 422, "unprocessable", "milestones")
    project.refresh_from_db()
    assert project.budget == 20_000_000


def test_patch_project_by_someone_else_is_a_403(client_for):
    project = ProjectFactory()
    response = client_for(make_address()).patch(
        f"/api/projects/{project.pk}", {"title": "Mine now"}, format="json"
    )
    assert_error(response, 403, "not_project_client")
    assert Project.objects.get(pk=project.pk).title != "Mine now"


def test_patch_project_anonymous_is_a_401(anon):
    project = ProjectFactory()
    assert_error(anon.patch(f"/api/projects/{project.pk}", {"title": "x"}, format="json"), 401)


@pytest.mark.parametrize("status", ["pending", "active", "cancelled"])
def test_patch_project_not_open_is_a_409(client_for, status):
    project = ProjectFactory(status=status)
    response = client_for(project.client_address).patch(
        f"/api/projects/{project.pk}", {"title": "x"}, format="json"
    )
    assert_error(response, 409, "invalid_transition")


def test_patch_cannot_set_status(client_for):
    project = ProjectFactory()
    response = client_for(project.client_address).patch(
        f"/api/projects/{project.pk}", {"status": "active"}, format="json"
    )
    assert_error(response, 400, "validation_error", "status")
    assert Project.objects.get(pk=project.pk).status == "open"


def test_cancel_cancels_an_open_project_which_stays_readable(client_for, anon):
    project = ProjectFactory()
    response = client_for(project.client_address).put(f"/api/projects/{project.pk}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert anon.get(f"/api/projects/{project.pk}").json()["status"] == "cancelled"
    again = client_for(project.client_address).put(f"/api/projects/{project.pk}/cancel")
    assert_error(again, 409, "invalid_transition")


def test_a_project_is_not_deleted_a_delete_is_a_405(client_for):
    project = ProjectFactory()
    response = client_for(project.client_address).delete(f"/api/projects/{project.pk}")
    assert_error(response, 405, "method_not_allowed")
    assert Project.objects.get(pk=project.pk).status == "open"


def test_cancel_by_someone_else_is_a_403(client_for):
    project = ProjectFactory()
    assert_error(client_for(make_address()).put(f"/api/projects/{project.pk}/cancel"), 403)
    assert Project.objects.get(pk=project.pk).status == "open"


# --- milestone submission ----------------------------------------------------------------


def _active_project() -> Project:
    return ProjectFactory(status=Project.Status.ACTIVE, freelancer_address=make_address())


def test_freelancer_records_a_submission_without_changing_status(client_for):
    project = _active_project()
    response = client_for(project.freelancer_address).put(
        f"/api/projects/{project.pk}/milestones/1/submission",
        {"submissionLink": "https://github.com/x/y/pull/1", "note": "done"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["submissionLink"] == "https://github.com/x/y/pull/1"
    assert response.json()["status"] == "locked"  # only the chain says "submitted"
    milestone = Milestone.objects.get(project=project, number=1)
    assert milestone.submission_note == "done" and milestone.submitted_at is not None


def test_submission_rules(client_for, anon):
    project = _active_project()
    url = f"/api/projects/{project.pk}/milestones/1/submission"
    body = {"submissionLink": "https://example.com/work"}
    assert_error(anon.put(url, body, format="json"), 401)
    assert_error(client_for(project.client_address).put(url, body, format="json"), 403)
    assert_error(client_for(make_address()).put(url, body, format="json"), 403)
    freelancer = client_for(project.freelancer_address)
    assert_error(
        freelancer.put(f"/api/projects/{project.pk}/milestones/3/submission", body, format="json"),
        404,
    )
    assert_error(freelancer.put(url, {"submissionLink": "not a url"}, format="json"), 422)
    assert_error(freelancer.put(url, {}, format="json"), 400, field="submissionLink")
    open_project = ProjectFactory(freelancer_address=project.freelancer_address)
    response = freelancer.put(
        f"/api/projects/{open_project.pk}/milestones/1/submission", body, format="json"
    )
    assert_error(response, 409)


def test_a_submission_may_be_the_ipfs_link_of_an_uploaded_file(client_for):
    from tests.files.factories import StoredFileFactory

    project = _active_project()
    stored = StoredFileFactory()
    freelancer = client_for(project.freelancer_address)
    url = f"/api/projects/{project.pk}/milestones/1/submission"

    response = freelancer.put(
        url, {"submissionLink": f"ipfs://{stored.cid.upper()}"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["submissionLink"] == f"ipfs://{stored.cid}"
    never = "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert_error(
        freelancer.put(url, {"submissionLink": never}, format="json"), 422, field="submissionLink"
    )
    assert_error(
        freelancer.put(url, {"submissionLink": "ipfs://junk"}, format="json"),
        422,
        field="submissionLink",
    )


# --- reviews ---------------------------------------------------------------------------------


def test_both_reviews_make_the_project_reviewed(client_for):
    project = ProjectFactory(status=Project.Status.COMPLETED, freelancer_address=make_address())
    url = f"/api/projects/{project.pk}/reviews"
    first = client_for(project.client_address).post(
        url, {"rating": 5, "comment": "Great"}, format="json"
    )
    assert first.status_code == 201, first.content
    assert first.json()["revieweeAddress"] == project.freelancer_address
    project.refresh_from_db()
    assert project.status == "completed"
    second = client_for(project.freelancer_address).post(url, {"rating": 4}, format="json")
    assert second.status_code == 201
    project.refresh_from_db()
    assert project.status == "reviewed"
    assert client_for(make_address()).get(url).json()["count"] == 2


def test_review_rules(client_for, anon):
    project = ProjectFactory(status=Project.Status.COMPLETED, freelancer_address=make_address())
    url = f"/api/projects/{project.pk}/reviews"
    assert_error(anon.post(url, {"rating": 5}, format="json"), 401)
    assert_error(client_for(make_address()).post(url, {"rating": 5}, format="json"), 403)
    client = client_for(project.client_address)
    for bad in (0, 6, "5", 4.5, None):
        assert_error(client.post(url, {"rating": bad}, format="json"), 400, field="rating")
    assert client.post(url, {"rating": 3}, format="json").status_code == 201
    assert_error(client.post(url, {"rating": 3}, format="json"), 409, "already_reviewed")
    active = _active_project()
    response = client_for(active.client_address).post(
        f"/api/projects/{active.pk}/reviews", {"rating": 5}, format="json"
    )
    assert_error(response, 409, "invalid_transition")


def test_profile_shows_review_summary(anon):
    user = UserFactory(display_name="Ada")
    for rating in (5, 4):
        ReviewFactory(
            project=ProjectFactory(),
            reviewer_address=make_address(),
            reviewee_address=user.address,
            rating=rating,
        )
    body = anon.get(f"/api/users/{user.address}").json()
    assert body["displayName"] == "Ada"
    assert body["reviews"] == {"count": 2, "averageRating": 4.5}
    assert anon.get(f"/api/users/{user.address}/reviews").json()["count"] == 2


# --- regressions from the review -------------------------------------------------------------


@pytest.mark.parametrize("milestones", [[{"title": "x"}], [{}], [{"amount": 5}]])
def test_patch_with_an_incomplete_milestone_is_a_400_not_a_500(client_for, milestones):
    project = ProjectFactory()
    response = client_for(project.client_address).patch(
        f"/api/projects/{project.pk}", {"milestones": milestones}, format="json"
    )
    assert_error(response, 400, "validation_error", "milestones")


def test_json_nested_too_deeply_is_a_400(client_for, anon):
    deep = "[" * 5000 + "]" * 5000
    for api, url in ((anon, "/api/auth/challenge"), (client_for(make_address()), "/api/projects")):
        response = api.generic("POST", url, deep, content_type="application/json")
        assert_error(response, 400, "parse_error")


def test_blank_filters_mean_no_filter(anon):
    ProjectFactory()
    response = anon.get("/api/projects?status=&client=&freelancer=&token=&search=")
    assert response.status_code == 200 and response.json()["count"] == 1


def test_the_client_records_the_funding_transaction(client_for, anon):
    project = ProjectFactory(status=Project.Status.PENDING, freelancer_address=make_address())
    url = f"/api/projects/{project.pk}/funding"
    tx = "0x" + "Ab" * 32
    assert_error(anon.post(url, {"txId": tx}, format="json"), 401)
    assert_error(
        client_for(project.freelancer_address).post(url, {"txId": tx}, format="json"),
        403,
        "not_project_client",
    )
    for bad in ("0x123", "ab" * 32, None, 5):
        response = client_for(project.client_address).post(url, {"txId": bad}, format="json")
        assert_error(response, 400, "validation_error", "txId")
    response = client_for(project.client_address).post(url, {"txId": tx}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["fundingTxId"] == tx.lower()
    assert response.json()["status"] == "pending"  # only the indexer activates it
    open_project = ProjectFactory()
    response = client_for(open_project.client_address).post(
        f"/api/projects/{open_project.pk}/funding", {"txId": tx}, format="json"
    )
    assert_error(response, 409)
