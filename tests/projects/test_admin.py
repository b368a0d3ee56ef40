"""The project admin: once a proposal is accepted (past `open`), the parties, token, budget and
milestones are what both sides agreed to and what the chain holds; the party checks trust them,
so an ordinary staff user cannot rewrite them (only the listing text stays editable)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from projects.models import Milestone, Project
from tests.factories import ProjectFactory, UserFactory, make_address
from tests.projects.disputes import active_project, file

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    """Staff with every projects permission on projects and milestones, not a reviewer."""
    user: User = UserFactory(is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="projects", content_type__model__in=["project", "milestone"]
        )
    )
    client = Client()
    client.force_login(user)
    return client


def _change_form(project: Project, **changes) -> dict:
    """What the change form posts: the project's fields and its milestone inline rows."""
    milestones = list(project.milestones.order_by("number"))
    data = {
        "title": project.title,
        "description": project.description,
        "category": project.category,
        "skills": "[]",
        "token": project.token,
        "budget": project.budget,
        "client_address": project.client_address,
        "freelancer_address": project.freelancer_address,
        "milestones-TOTAL_FORMS": len(milestones) + 1,
        "milestones-INITIAL_FORMS": len(milestones),
        "milestones-MIN_NUM_FORMS": 0,
        "milestones-MAX_NUM_FORMS": 1000,
    }
    for i, m in enumerate(milestones):
        data |= {
            f"milestones-{i}-id": m.pk,
            f"milestones-{i}-project": project.pk,
            f"milestones-{i}-number": m.number,
            f"milestones-{i}-title": m.title,
            f"milestones-{i}-amount": m.amount,
            f"milestones-{i}-due_date": "",
            f"milestones-{i}-submission_link": m.submission_link,
        }
    new = len(milestones)  # an extra row: a third milestone
    data |= {
        f"milestones-{new}-project": project.pk,
        f"milestones-{new}-number": 3,
        f"milestones-{new}-title": "extra",
        f"milestones-{new}-amount": 5,
    }
    return data | changes


def test_staff_cannot_rewrite_the_parties_or_milestones_of_a_disputed_project(staff):
    project = active_project()
    file(project, 1)
    project.refresh_from_db()
    before = (project.client_address, project.freelancer_address, project.token, project.budget)
    first = project.milestones.get(number=1)
    forged = _change_form(
        project,
        title="Renamed by moderation",
        freelancer_address=make_address(),
        budget=1,
        **{
            "milestones-0-amount": 1,
            "milestones-0-submission_link": "https://evil.example/forged-deliverable",
            "milestones-1-DELETE": "on",
        },
    )
    # when
    response = staff.post(f"/admin/projects/project/{project.pk}/change/", forged)
    # then: saved, but only the listing text changed
    assert response.status_code == 302, response.content[:2000]
    project.refresh_from_db()
    assert project.title == "Renamed by moderation"
    after = (project.client_address, project.freelancer_address, project.token, project.budget)
    assert after == before
    first.refresh_from_db()
    assert (first.amount, first.submission_link) == (project.budget // 2, "")
    assert sorted(project.milestones.values_list("number", flat=True)) == [1, 2]


def test_staff_cannot_change_or_delete_an_agreed_milestone_directly(staff):
    project = active_project()
    milestone = project.milestones.get(number=1)
    url = f"/admin/projects/milestone/{milestone.pk}/change/"
    # when
    staff.post(url, {"project": project.pk, "number": 4, "title": "x", "amount": 1})
    deleted = staff.post(f"/admin/projects/milestone/{milestone.pk}/delete/", {"post": "yes"})
    bulk = staff.post(
        "/admin/projects/milestone/",
        {"action": "delete_selected", "_selected_action": [milestone.pk], "post": "yes"},
    )
    added = staff.post(
        "/admin/projects/milestone/add/",
        {"project": project.pk, "number": 3, "title": "x", "amount": 1},
    )
    # then
    assert deleted.status_code == 403
    assert bulk.status_code in (200, 302)
    assert added.status_code == 200  # the form refuses the project: not open
    milestone.refresh_from_db()
    assert (milestone.number, milestone.amount) == (1, project.budget // 2)
    assert project.milestones.count() == 2


def test_an_open_project_stays_editable(staff):
    project = ProjectFactory()
    new_client = make_address()
    data = _change_form(project, client_address=new_client, **{"milestones-0-amount": 7})
    # when
    response = staff.post(f"/admin/projects/project/{project.pk}/change/", data)
    # then
    assert response.status_code == 302, response.content[:2000]
    project.refresh_from_db()
    assert project.client_address == new_client
    assert project.milestones.get(number=1).amount == 7
    assert project.milestones.count() == 3
    assert Milestone.objects.filter(project=project, number=3, title="extra").exists()
