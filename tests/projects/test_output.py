"""The project JSON built from rows (projects/output.py, selectors.projects_json) is the
documented ProjectOutput, field for field, whatever the fields hold (blanks, nulls, microseconds,
non-ASCII), in two queries for a project and three for a page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import selectors
from projects.models import Milestone, Project
from projects.serializers import ProjectOutput
from tests.factories import ProjectFactory, make_address

pytestmark = pytest.mark.django_db


def _varied_projects() -> list[int]:
    bare = ProjectFactory(milestones=1, category="", skills=[])
    full = ProjectFactory(
        milestones=4,
        title="Ünïcødé \u2028 title",
        category="Design",
        skills=["python", "clarity"],
        token="sBTC",
        status=Project.Status.ACTIVE,
        freelancer_address=make_address(),
        on_chain_id=7,
        funding_tx_id="0x" + "ab" * 32,
        funding_error="mismatch",
    )
    Milestone.objects.filter(project=full, number=2).update(
        due_date=date(2027, 1, 31),
        status=Milestone.Status.SUBMITTED,
        submission_link="https://example.com/work",
        submission_note="done",
        submitted_at=datetime(2026, 12, 7, 10, 30, 15, 123456, tzinfo=UTC),
        tx_hash="0x" + "cd" * 32,
    )
    whole = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds
    Project.objects.filter(pk=bare.pk).update(created_at=whole, updated_at=whole + timedelta(1))
    return [bare.pk, full.pk]


def test_the_rows_json_is_the_documented_serializer_output():
    ids = _varied_projects()
    documented = [ProjectOutput(p).data for p in selectors.project_list().filter(pk__in=ids)]
    assert selectors.projects_json(list(selectors.project_rows().filter(pk__in=ids))) == documented
    assert selectors.projects_json([]) == []


def test_list_and_detail_bodies_are_unchanged_by_the_plain_output(anon):
    ids = _varied_projects()
    listed = anon.get("/api/projects").json()["results"]
    expected = [ProjectOutput(p).data for p in selectors.project_list().filter(pk__in=ids)]
    assert listed == expected
    assert anon.get(f"/api/projects/{ids[1]}").json() == expected[0]


def test_a_project_detail_runs_two_queries(anon):
    project = ProjectFactory(milestones=4)
    with CaptureQueriesContext(connection) as queries:
        assert anon.get(f"/api/projects/{project.pk}").status_code == 200
    assert len(queries) == 2  # the project, its milestones
