"""The review panel in the reviewer's language, below the browser: amounts as tokens (the one
formatting function and its template filter), becoming a reviewer (`manage.py reviewer_add`),
the admin page that refuses staff outside the group, the chain state's tip and read time, the
neutral wording for a dispute resolved outside the panel, and the statements' migration."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.template import Context, Template
from django.test import Client

from projects import services
from projects.amounts import base_units_text, token_amount_text
from projects.selectors import REVIEWERS_GROUP, dispute_review_get, is_dispute_reviewer
from tests.chainsync.scenarios import indexer_settings
from tests.factories import UserFactory, make_address
from tests.projects.disputes import active_project, close, disputed_on_chain, file, reviewer

pytestmark = pytest.mark.django_db


# --- amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "token", "text"),
    [
        (1_011_250_000, "STX", "1,011.25 STX"),
        (1_300_000, "sBTC", "0.013 sBTC"),
        (5_000_000, "STX", "5 STX"),
        (1, "STX", "0.000001 STX"),
        (1, "sBTC", "0.00000001 sBTC"),
        (0, "STX", "0 STX"),
        (400_250_001, "STX", "400.250001 STX"),  # every micro-STX kept, never rounded
        (2**128 - 1, "STX", "340,282,366,920,938,463,463,374,607,431,768.211455 STX"),  # u128 max
        (12_345_678_900_000_000, "sBTC", "123,456,789 sBTC"),
        ("1011250000", "STX", "1,011.25 STX"),  # the agreement's JSON may carry a string
        (-2_500_000, "STX", "-2.5 STX"),
        (None, "STX", "—"),
        ("12.5", "STX", "—"),  # not an amount in base units
        (7, "USDCx", "7 base units of USDCx"),
    ],
)
def test_an_amount_reads_as_tokens_with_unit_and_separators(amount, token, text):
    assert token_amount_text(amount, token) == text


def test_the_base_units_are_named_for_each_token():
    assert base_units_text(1_011_250_000, "STX") == "1,011,250,000 micro-STX"
    assert base_units_text(1_300_000, "sBTC") == "1,300,000 sats"
    assert base_units_text(None, "STX") == ""


def test_the_template_filter_shows_tokens_with_the_base_units_on_hover():
    html = Template("{% load dispute_review %}{{ a|token_amount:t }}").render(
        Context({"a": 1_300_000, "t": "sBTC"})
    )
    assert html == '<span class="amount" title="1,300,000 sats">0.013 sBTC</span>'


def test_the_template_filter_escapes_what_it_is_given():
    html = Template("{% load dispute_review %}{{ a|token_amount:t }}").render(
        Context({"a": 1, "t": "<b>"})
    )
    assert "<b>" not in html and "&lt;b&gt;" in html


# --- becoming a reviewer ------------------------------------------------------------------------


def test_reviewer_add_makes_a_fresh_superuser_a_reviewer_and_the_group_if_missing():
    from accounts.models import User

    Group.objects.filter(name=REVIEWERS_GROUP).delete()
    admin = User.objects.create_superuser(make_address(), "pw-1234567890")
    assert not is_dispute_reviewer(admin)
    out = StringIO()
    # when
    call_command("reviewer_add", admin.address, stdout=out)
    # then
    admin.refresh_from_db()
    assert is_dispute_reviewer(admin)
    assert f"{admin.address} is now a dispute reviewer." in out.getvalue()
    codenames = set(
        Group.objects.get(name=REVIEWERS_GROUP).permissions.values_list("codename", flat=True)
    )
    assert codenames == {
        "view_dispute",
        "view_disputestatement",
        "view_evidence",
        "view_agreement",
        "view_resolutionattempt",
    }
    again = StringIO()
    call_command("reviewer_add", admin.address, stdout=again)
    assert "was already a dispute reviewer" in again.getvalue()


def test_reviewer_add_makes_a_signed_in_wallet_user_staff():
    user = UserFactory(address=make_address(), is_staff=False)
    call_command("reviewer_add", user.address, stdout=StringIO())
    user.refresh_from_db()
    assert user.is_staff and is_dispute_reviewer(user)


def test_reviewer_add_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="No user has the address"):
        call_command("reviewer_add", make_address(), stdout=StringIO())


# --- refused access ------------------------------------------------------------------------------


def test_staff_outside_the_group_get_an_admin_page_not_json():
    dispute = file(active_project(), 1, notify=False)
    browser = Client()
    outsider = UserFactory(address=make_address(), is_staff=True)
    browser.force_login(outsider)
    for path in (
        "/admin/projects/dispute/",
        f"/admin/projects/dispute/{dispute.pk}/review/",
        f"/admin/projects/dispute/{dispute.pk}/change/",
        "/admin/projects/evidence/",
        "/admin/projects/agreement/",
        "/admin/projects/resolutionattempt/",
        "/admin/projects/disputestatement/",
    ):
        response = browser.get(path, follow=True)  # change/ redirects to review/
        assert response.status_code == 403, path
        assert response["content-type"].startswith("text/html"), path
        page = response.content.decode()
        assert "you are not a dispute reviewer" in page, path
        assert f"python manage.py reviewer_add {outsider.address}" in page
    index = browser.get("/admin/").content.decode()
    assert 'id="reviewer-hint"' in index and "reviewer_add" in index


def test_a_reviewer_sees_no_hint_and_anonymous_users_go_to_the_login():
    browser = Client()
    browser.force_login(reviewer())
    assert 'id="reviewer-hint"' not in browser.get("/admin/").content.decode()
    response = Client().get("/admin/projects/dispute/")
    assert response.status_code == 302 and "/admin/login/" in response["location"]


# --- the chain state's stamp, the summary --------------------------------------------------------


def test_the_chain_state_says_at_which_tip_and_when_it_was_read(hiro, api, client_for):
    _, dispute = disputed_on_chain(hiro, api)
    staff = reviewer()
    with indexer_settings(hiro):
        review = dispute_review_get(dispute_id=dispute.pk, user=staff)
        body = client_for(staff).get(f"/api/admin/disputes/{dispute.pk}").json()
        # a second read within the cache's minute keeps the first read's time
        again = dispute_review_get(dispute_id=dispute.pk, user=staff)
    assert review.chain["tipHeight"] == hiro.chain.tip.height
    assert review.chain["tipHash"]
    assert again.chain["readAt"] == review.chain["readAt"]
    assert body["chain"]["tipHeight"] == hiro.chain.tip.height
    assert body["chain"]["readAt"].startswith(review.chain["readAt"].isoformat()[:19])


def test_history_resolved_outside_the_panel_carries_no_warning(settings):
    settings.CHAINSYNC = {**settings.CHAINSYNC, "STACKS_API_URL": "http://127.0.0.1:9"}
    project = active_project()
    dispute = file(project, 1, notify=False)
    close(project, 1, in_favor_of="freelancer", notify=False)
    review = dispute_review_get(dispute_id=dispute.pk, user=reviewer())
    assert review.closing_warning is None and review.closing_attempt is None


def test_the_attempt_that_resolved_the_dispute_is_named_in_the_summary(settings):
    settings.CHAINSYNC = {**settings.CHAINSYNC, "STACKS_API_URL": "http://127.0.0.1:9"}
    project, staff, tx = active_project(), reviewer(), "0x" + "ef" * 32
    dispute = file(project, 1, notify=False)
    services.dispute_resolution_record(
        dispute_id=dispute.pk, reviewer=staff, tx_id=tx, rationale="R.", release_to_freelancer=True
    )
    close(project, 1, tx_id=tx, in_favor_of="freelancer", notify=False)
    review = dispute_review_get(dispute_id=dispute.pk, user=staff)
    assert review.closing_attempt.tx_id == tx and review.closing_attempt.reviewer == staff.address
    assert review.attempts[0]["state"] == "succeeded"
    browser = Client()
    browser.force_login(staff)
    page = browser.get(f"/admin/projects/dispute/{dispute.pk}/review/").content.decode()
    summary = page.split('id="summary-resolution"')[1].split("</td>")[0]
    assert tx in summary and staff.address in summary and "release to the freelancer" in summary


# --- the statements' migration -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_filers_old_statement_becomes_their_sides_statement():
    executor = MigrationExecutor(connection)
    before = [("projects", "0004_resolution_attempts")]
    after = [("projects", "0005_dispute_statements")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    project = old.get_model("projects", "Project").objects.create(
        title="t",
        description="d",
        token="STX",
        budget=10,
        client_address=make_address(),
        freelancer_address=make_address(),
        status="disputed",
    )
    Dispute = old.get_model("projects", "Dispute")
    at = "2026-11-20T12:00:00Z"
    common = {"project": project, "filed_block_height": 1, "filed_at": at}
    Dispute.objects.create(
        milestone_number=1,
        filed_by=project.freelancer_address,
        filed_tx_id="0x" + "1" * 64,
        statement="Paid late.",
        statement_at=at,
        **common,
    )
    Dispute.objects.create(
        milestone_number=2, filed_by=project.client_address, filed_tx_id="0x" + "2" * 64, **common
    )
    # when
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    # then
    new = executor.loader.project_state(after).apps
    rows = new.get_model("projects", "DisputeStatement").objects.all()
    assert [(r.dispute.milestone_number, r.party, r.author, r.text) for r in rows] == [
        (1, "freelancer", project.freelancer_address, "Paid late.")
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
