"""The dispute review panel in a real browser: Debian's chromium, headless, driven by Playwright
(never a downloaded browser). A reviewer signs into the admin, opens a dispute with evidence
from both parties, sees the agreement, the timeline and the on-chain state, writes a rationale
and presses resolve; a stub wallet injected into the page (window.StacksProvider, the way
Leather and Xverse expose themselves) records the contract call that the vendored
@stacks/connect hands it. The screenshot is kept in tests/artifacts/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chainsync.clarity import Bool, UInt, clarity_decode
from chainsync.client import StacksApiClient
from projects import services
from projects.models import Dispute, Project
from tests.chainsync.hiro_server import ESCROW_CONTRACT, HiroServer
from tests.chainsync.scenarios import indexer_settings, pending_project
from tests.factories import ProposalFactory
from tests.projects.disputes import disputed_on_chain, reviewer

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "a-reviewer-password-1"
BROADCAST_TXID = "ab" * 32  # what the stub wallet answers (as wallets do: no 0x)

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
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
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
    project = pending_project()
    proposal = ProposalFactory(
        project=project,
        freelancer_address=project.freelancer_address,
        cover_letter="Two milestones: the design, then the build.",
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
    return project, dispute


def _sign_in(page, url: str, staff) -> None:
    """Sign the reviewer into the admin with their password."""
    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", staff.address)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_a_reviewer_resolves_a_dispute_through_the_wallet(hiro, scene, live_server, browser_page):
    page = browser_page
    staff, project, dispute = scene
    with indexer_settings(hiro):
        # when: the reviewer signs into the admin and opens the dispute from the list
        _sign_in(page, live_server.url, staff)
        page.goto(f"{live_server.url}/admin/projects/dispute/?status__exact=open")
        page.click(f"text=Review #{dispute.pk}")
        page.wait_for_selector("#dispute-review")
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
        # resolve stays disabled until a rationale is written
        assert page.is_disabled("#resolve-button")
        page.check("input[name=outcome][value=client]")
        page.fill("#rationale", "The agreement names no Node version; the client's CI is fair.")
        assert page.is_enabled("#resolve-button")
        page.click("#resolve-button")
        # (a selector, not wait_for_function: the page's CSP forbids eval, as intended)
        page.wait_for_selector("#resolve-status:has-text('recorded')")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dispute_review.png"), full_page=True)
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
        page.click("#resolve-button")
        page.wait_for_selector("#resolve-status:has-text('recording it failed')")
        status = page.inner_text("#resolve-status")
    assert "reload the page" in status and "Broadcast 0x" in status
    dispute.refresh_from_db()
    assert dispute.resolution_tx_id == ""
