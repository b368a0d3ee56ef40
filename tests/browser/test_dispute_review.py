"""The dispute review panel in a real browser: Debian's chromium, headless, driven by Playwright
(never a downloaded browser). A reviewer signs into the admin, opens a dispute with evidence
from both parties, sees the agreement, the timeline and the on-chain state, writes a rationale
and presses resolve; a stub wallet injected into the page (window.StacksProvider, the way
Leather and Xverse expose themselves) records the contract call that the vendored
@stacks/connect hands it. The panel speaks the reviewer's language: amounts in tokens
(`1,011.25 STX`, base units on hover), no decision preselected, the disputed milestone marked,
both parties' statements side by side, the chain's state stamped with its tip and read time,
the resolving transaction in a closed dispute's summary, every page within 1366 px, and an
admin page (not JSON) for staff outside the reviewers' group. Screenshots go to tests/artifacts/
(gitignored)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chainsync.client import StacksApiClient
from projects import services
from projects.models import Dispute, Project
from stacks import Bool, UInt, clarity_decode
from tests.chainsync.hiro_server import ESCROW_CONTRACT, HiroServer, milestone_fees
from tests.chainsync.scenarios import indexer_settings, pending_project
from tests.factories import ProjectFactory, ProposalFactory, UserFactory, make_address
from tests.projects.disputes import active_project, close, disputed_on_chain, file, reviewer

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "a-reviewer-password-1"
BROADCAST_TXID = "ab" * 32  # what the stub wallet answers (as wallets do: no 0x)
# 1,011.25 STX in all: milestone 1 610.999999 STX (every micro-STX shows), milestone 2 400.250001
AMOUNTS = (610_999_999, 400_250_001)
WIDTH = 1366  # the narrowest laptop screen the panel must fit without sideways scrolling

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # CI always runs it (.ci/run installs chromium); elsewhere it needs chromium installed.
    pytest.mark.skipif(
        os.environ.get("CI") != "true" and not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)",
    ),
]

STUB_WALLET = """
window.__walletCalls = [];
window.StacksProvider = {
  async request(method, params) {
    window.__walletCalls.push({ method, params: JSON.parse(JSON.stringify(params)) });
    return { jsonrpc: "2.0", id: "stub", result: { txid: "TXID" } };
  },
};
""".replace("TXID", BROADCAST_TXID)


@pytest.fixture
def scene(hiro: HiroServer, api: StacksApiClient):
    """The reviewer (with an admin password) and the dispute, set up before the browser starts:
    Playwright's event loop would stop the notifications' async_to_sync push."""
    staff = reviewer()
    staff.set_password(PASSWORD)
    staff.save()
    project, dispute = _dispute_with_both_sides(hiro, api)
    return staff, project, dispute


@pytest.fixture
def browser_page(scene, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # still plain synchronous ones (the server runs in its own thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": WIDTH, "height": 900})
        context.add_init_script(STUB_WALLET)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # a Content-Security-Policy violation (a script or style the review page's CSP blocks)
        page.on(
            "console",
            lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        page.errors = errors
        yield page
        browser.close()


def _dispute_with_both_sides(hiro: HiroServer, api: StacksApiClient) -> tuple[Project, Dispute]:
    """A funded project, its agreement frozen, milestone 2 submitted, disputed on chain by the
    client, with evidence from both parties."""
    project = pending_project(AMOUNTS)
    proposal = ProposalFactory(
        project=project,
        freelancer_address=project.freelancer_address,
        cover_letter="Two milestones: the design, then the build.",
        proposed_budget=sum(AMOUNTS),
    )
    services.agreement_freeze(project=project, proposal=proposal)
    project, dispute = disputed_on_chain(hiro, api, project, submitted=True)
    project.milestones.filter(number=2).update(submission_link="https://github.com/f/build/pull/9")
    services.evidence_submit(
        dispute_id=dispute.pk,
        actor=project.client_address,
        description="The build does not run: see the CI log.",
        links=["https://github.com/f/build/actions/runs/1"],
    )
    services.evidence_submit(
        dispute_id=dispute.pk,
        actor=project.freelancer_address,
        description="It runs on the agreed Node version; the client's CI uses another.",
        file=services.EvidenceFile(
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "node-version.txt",
            0,
        ),
    )
    services.dispute_statement_set(
        dispute_id=dispute.pk, actor=project.client_address, text="The build never ran for us."
    )
    services.dispute_statement_set(
        dispute_id=dispute.pk, actor=project.freelancer_address, text="It runs; see my evidence."
    )
    services.dispute_statement_set(  # rewritten: the freelancer's second version is shown
        dispute_id=dispute.pk,
        actor=project.freelancer_address,
        text="It runs on Node 20, as agreed; see my evidence.",
    )
    return project, dispute


def _sign_in(page, url: str, staff) -> None:
    """Sign the reviewer into the admin with their password."""
    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", staff.address)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _overflow(page, selector: str = "html") -> dict:
    """How far `selector` (and the page) is wider than its box: 0 when nothing scrolls sideways."""
    return page.evaluate(
        """(sel) => {
             const el = document.querySelector(sel);
             const doc = document.documentElement;
             return { element: el.scrollWidth - el.clientWidth,
                      page: doc.scrollWidth - window.innerWidth };
           }""",
        selector,
    )


def _background(page, selector: str) -> str:
    return page.evaluate(
        "(s) => getComputedStyle(document.querySelector(s)).backgroundColor", selector
    )


def test_a_reviewer_resolves_a_dispute_through_the_wallet(hiro, scene, live_server, browser_page):
    page = browser_page
    staff, project, dispute = scene
    with indexer_settings(hiro):
        # when: the reviewer signs into the admin and opens the dispute from the list
        _sign_in(page, live_server.url, staff)
        page.goto(f"{live_server.url}/admin/projects/dispute/?status__exact=open")
        page.click(f"text=Review #{dispute.pk}")
        page.wait_for_selector("#dispute-review")
        _shot(page, "dispute_review_before")
        # then: amounts in tokens with units and separators, gross and net named, base units
        # on hover (1,011.25 STX in all; the contract keeps 10 % of each milestone)
        net = AMOUNTS[1] - milestone_fees(AMOUNTS)[1]
        assert net == 360_225_001
        summary_amount = page.inner_text("#summary-amount")
        assert "400.250001 STX gross" in summary_amount
        assert "360.225001 STX net" in summary_amount
        hover = page.get_attribute("#summary-amount .amount", "title")
        assert hover == "400,250,001 micro-STX"
        assert "1,011.25 STX gross" in page.inner_text("#agreement-budget")
        assert "(1,011.25 STX, 14 days)" in page.inner_text("#agreement-proposal")
        assert "610.999999 STX" in page.inner_text("#agreement-milestones")
        chain_table = page.inner_text("#chain-table")
        # the contract's fee is floored per milestone: 101.124999 STX, leaving 910.125001
        assert sum(milestone_fees(AMOUNTS)) == 101_124_999
        assert "net escrow 910.125001 STX (fee paid 101.124999 STX)" in chain_table
        assert "net 360.225001 STX" in chain_table
        timeline = page.inner_text("#timeline")
        assert "1,011.25 STX gross, 910.125001 STX net in escrow, 101.124999 STX fee" in timeline
        assert "1011250000" not in page.inner_text("#dispute-review")  # no raw base units
        # the chain's state says at which tip and when it was read
        stamp = page.inner_text("#chain-stamp")
        assert f"Read at Stacks block {hiro.chain.tip.height}" in stamp and " ago" in stamp
        # the disputed milestone's row is marked, over the admin's row striping
        assert "DISPUTED" in page.inner_text("#disputed-milestone").upper()
        marked = _background(page, "#disputed-milestone td")
        other = _background(page, "#agreement-milestones tbody tr:first-child td")
        assert marked == "rgb(255, 243, 205)" and other != marked
        # both parties' statements, each in its own column (the freelancer's rewritten one)
        client_statement = page.inner_text("#statement-client")
        freelancer_statement = page.inner_text("#statement-freelancer")
        assert "The build never ran for us." in client_statement
        assert "It runs on Node 20, as agreed" in freelancer_statement
        assert (
            "last rewritten" in freelancer_statement
            and "see my evidence.\n" not in client_statement
        )
        assert "FILED THE DISPUTE" in page.inner_text("#evidence-client h3").upper()
        # no decision is preselected: the button waits for a decision and a rationale
        assert page.evaluate("document.querySelectorAll('input[name=outcome]:checked').length") == 0
        page.fill("#rationale", "The agreement names no Node version; the client's CI is fair.")
        assert page.is_disabled("#resolve-button")
        # nothing overflows sideways at 1366 px
        assert _overflow(page, "#resolution-attempts, #timeline-table") == {"element": 0, "page": 0}
        # then: the agreement, both sides' evidence, the timeline and the chain's state
        assert project.agreement.sha256 in page.inner_text("#agreement")
        assert "(the stored document matches this hash)" in page.inner_text("#agreement")
        client_side = page.inner_text("#evidence-client")
        freelancer_side = page.inner_text("#evidence-freelancer")
        assert "does not run" in client_side and "agreed Node version" not in client_side
        assert "agreed Node version" in freelancer_side
        assert "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" in freelancer_side
        timeline = page.inner_text("#timeline")
        for event in ("project-created", "milestone-completed", "dispute-filed"):
            assert event in timeline
        assert "Evidence from the client" in timeline
        assert "The database agrees with the contract." in page.inner_text("#chain-state")
        assert "open, filed by" in page.inner_text("#chain-dispute")
        assert "github.com/f/build/pull/9" in page.inner_text("#submission")
        page.check("input[name=outcome][value=client]")
        assert page.is_enabled("#resolve-button")
        page.click("#resolve-button")
        # (a selector, not wait_for_function: the page's CSP forbids eval, as intended)
        page.wait_for_selector("#resolve-status:has-text('recorded')")
        _shot(page, "dispute_review")
        calls = page.evaluate("window.__walletCalls")
    # then: the wallet was asked for exactly the contract call, and the tx is recorded
    assert page.errors == []
    assert len(calls) == 1
    call = calls[0]
    assert call["method"] == "stx_callContract"
    params = call["params"]
    assert (params["contract"], params["functionName"]) == (
        ESCROW_CONTRACT,
        "admin-resolve-dispute-stx",
    )
    assert params["network"] == "testnet"
    args = [clarity_decode(arg) for arg in params["functionArgs"]]
    assert args == [UInt(1), UInt(2), Bool(False)]  # project 1, milestone 2, refund the client
    dispute.refresh_from_db()
    assert dispute.status == "open"  # resolved only when the indexer sees dispute-resolved
    assert dispute.resolution_tx_id == "0x" + BROADCAST_TXID
    assert dispute.resolution_release_to_freelancer is False
    assert dispute.rationale.startswith("The agreement names no Node version")
    assert dispute.resolution_by == staff.address


def test_a_call_the_wallet_refuses_records_nothing(hiro, scene, live_server, browser_page):
    page = browser_page
    staff, _, dispute = scene
    with indexer_settings(hiro):
        _sign_in(page, live_server.url, staff)
        page.goto(f"{live_server.url}/admin/projects/dispute/{dispute.pk}/review/")
        # the reviewer's wallet declines to sign
        page.evaluate(
            """() => {
                 window.StacksProvider.request = async (method, params) => {
                   window.__walletCalls.push({ method, params });
                   throw Object.assign(new Error("User rejected the request"), { code: 4001 });
                 };
               }"""
        )
        page.fill("#rationale", "Refund.")
        page.check("input[name=outcome][value=client]")
        page.click("#resolve-button")
        page.wait_for_selector("#resolve-status:has-text('Not broadcast')")
        status = page.inner_text("#resolve-status")
        enabled_again = page.is_enabled("#resolve-button")
        calls = page.evaluate("window.__walletCalls.length")
    assert "User rejected the request" in status
    assert enabled_again and calls == 1
    dispute.refresh_from_db()
    assert (dispute.resolution_tx_id, dispute.rationale) == ("", "")


def test_a_broadcast_whose_record_is_refused_by_csrf_says_to_reload(
    hiro, scene, live_server, browser_page
):
    page = browser_page
    staff, _, dispute = scene
    with indexer_settings(hiro):
        _sign_in(page, live_server.url, staff)
        page.goto(f"{live_server.url}/admin/projects/dispute/{dispute.pk}/review/")
        # the session's CSRF token changed since the page was served (signed in elsewhere, ...)
        page.context.clear_cookies(name="csrftoken")
        page.fill("#rationale", "Refund.")
        page.check("input[name=outcome][value=client]")
        page.click("#resolve-button")
        page.wait_for_selector("#resolve-status:has-text('recording it failed')")
        status = page.inner_text("#resolve-status")
    assert "reload the page" in status and "Broadcast 0x" in status
    dispute.refresh_from_db()
    assert dispute.resolution_tx_id == ""


def test_a_decision_against_a_pending_attempt_needs_an_explicit_confirmation(
    hiro, scene, live_server, browser_page
):
    page = browser_page
    staff, _, dispute = scene
    pending = "0x" + "cd" * 32  # broadcast earlier, never seen by the indexer
    services.dispute_resolution_record(
        dispute_id=dispute.pk,
        reviewer=staff,
        tx_id=pending,
        rationale="Refund: nothing ran.",
        release_to_freelancer=False,
    )
    with indexer_settings(hiro):
        _sign_in(page, live_server.url, staff)
        page.goto(f"{live_server.url}/admin/projects/dispute/{dispute.pk}/review/")
        assert "refund to the client" in page.inner_text("#attempt-pending")
        # still nothing preselected, even after a pending refund
        assert page.evaluate("document.querySelectorAll('input[name=outcome]:checked').length") == 0
        page.fill("#rationale", "On reflection: it runs on the agreed Node.")
        # the same decision as the pending one needs no confirmation
        page.check("input[name=outcome][value=client]")
        assert page.is_hidden("#contradiction") and page.is_enabled("#resolve-button")
        # the opposite one is refused until ticked
        page.check("input[name=outcome][value=freelancer]")
        assert page.is_visible("#contradiction") and page.is_disabled("#resolve-button")
        assert _overflow(page) == {"element": 0, "page": 0}
        _shot(page, "dispute_review_contradiction")
        page.check("#confirm-contradiction")
        assert page.is_enabled("#resolve-button")
        page.click("#resolve-button")
        page.wait_for_selector("#resolve-status:has-text('recorded')")
        calls = page.evaluate("window.__walletCalls")
    assert [clarity_decode(a) for a in calls[0]["params"]["functionArgs"]][2] == Bool(True)
    assert list(dispute.resolution_attempts.values_list("release_to_freelancer", flat=True)) == [
        False,
        True,
    ]


def test_a_resolved_disputes_summary_names_its_tx_time_and_recorder(
    hiro, scene, live_server, browser_page
):
    page = browser_page
    staff, _, _ = scene
    # given: one resolved through the panel, one resolved outside it (history)
    project = active_project()
    ours = file(project, 1, notify=False)
    tx = "0x" + "ef" * 32
    services.dispute_resolution_record(
        dispute_id=ours.pk,
        reviewer=staff,
        tx_id=tx,
        rationale="Refund.",
        release_to_freelancer=False,
    )
    close(project, 1, tx_id=tx, in_favor_of="client", notify=False)
    history = file(project, 2, notify=False)
    close(project, 2, in_favor_of="freelancer", notify=False)
    with indexer_settings(hiro):
        _sign_in(page, live_server.url, staff)
        page.goto(f"{live_server.url}/admin/projects/dispute/{ours.pk}/review/")
        summary = page.inner_text("#summary-resolution")
        _shot(page, "dispute_review_resolved")
        page.goto(f"{live_server.url}/admin/projects/dispute/{history.pk}/review/")
        outside = page.inner_text("#summary-resolution")
        no_alarm = page.query_selector("#closing-warning") is None
    assert "Resolved in favour of the client on 2026-11-20 12:00:00 UTC" in summary
    assert tx in summary
    assert f"Recorded here by reviewer {staff.address}" in summary
    assert "refund to the client" in summary
    assert "Resolved in favour of the freelancer" in outside
    assert "Resolved outside this panel" in outside and no_alarm


def test_the_dispute_list_is_compact_enough_for_1366_px(hiro, scene, live_server, browser_page):
    page = browser_page
    staff, _, dispute = scene
    # given: a list like the one reported: long titles, resolved ones with their tx
    for n in range(6):
        project = active_project(token="sBTC" if n % 2 else "STX")
        ProjectFactory._meta.model.objects.filter(pk=project.pk).update(
            title=f"A long project title that goes on and on, number {n}"
        )
        file(project, 1, notify=False, by=project.freelancer_address if n % 3 else None)
        if n < 4:
            close(project, 1, notify=False)
    with indexer_settings(hiro):
        _sign_in(page, live_server.url, staff)
        page.goto(f"{live_server.url}/admin/projects/dispute/")
        page.wait_for_selector("#result_list")
        overflow = _overflow(page, "#changelist .results")
        rows = page.inner_text("#result_list")
        hover = page.get_attribute("#result_list .field-amount .amount", "title")
        _shot(page, "dispute_list")
    assert overflow == {"element": 0, "page": 0}
    assert f"Review #{dispute.pk}" in rows and "400.250001 STX" in rows and "0.1 sBTC" in rows
    assert hover.endswith("micro-STX")


def test_staff_outside_the_reviewers_group_get_an_admin_page_saying_why(
    hiro, scene, live_server, browser_page
):
    page = browser_page
    _, _, dispute = scene
    outsider = UserFactory(address=make_address(), is_staff=True, is_superuser=True)
    outsider.set_password(PASSWORD)
    outsider.save()
    _sign_in(page, live_server.url, outsider)
    hint = page.inner_text("#reviewer-hint")
    pages = {}
    for name in ("list", "review", "evidence"):
        path = {
            "list": "/admin/projects/dispute/",
            "review": f"/admin/projects/dispute/{dispute.pk}/review/",
            "evidence": "/admin/projects/evidence/",
        }[name]
        response = page.goto(f"{live_server.url}{path}")
        pages[name] = (response.status, response.headers["content-type"], page.inner_text("body"))
        if name == "review":
            _shot(page, "dispute_refused")
    assert f"manage.py reviewer_add {outsider.address}" in hint
    for status, content_type, text in pages.values():
        assert status == 403 and content_type.startswith("text/html")
        assert "you are not a dispute reviewer" in text
        assert f"python manage.py reviewer_add {outsider.address}" in text
        assert "Django administration" in text  # the admin's own header: an admin page
        assert "You may not do this." not in text
