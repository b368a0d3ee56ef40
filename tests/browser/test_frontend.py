"""The React frontend's flows in a real browser, through nothing but the generated TypeScript
client and its helpers (clients/typescript/): Debian's chromium, headless, opens a page served
on another origin than the API, so every request is a cross-origin one under real CORS (the
server allows exactly that origin, as CORS_ALLOWED_ORIGINS does in production). A test wallet
injected into the page (window.StacksProvider, as Leather and Xverse do it) signs the sign-in
challenge with @stacks/transactions, as those wallets do. The client and the freelancer each have
their own browser context and wallet: both sign in, the client posts a job with two milestones,
the freelancer finds it and proposes, the client accepts, and the freelancer's page receives the
notification over the WebSocket, after a dropped connection that the helper resumed.

The API is the web server (uvicorn) in its own process, as `make run` serves it, on the test
database (SQLite or PostgreSQL, Redis when CI's second run sets it): the `api_server` fixture,
the one place it starts.
The page's bundles are built from the committed sources by esbuild into a temporary directory
for each run, so the page always runs the client as committed (nothing built is committed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scripts import typescript_client as ts
from tests.clients.conftest import NODE_MISSING
from tests.processes import web_server

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

# SIGNING.md's vectors 1 and 3 (test keys, never a real wallet's), on testnet.
CLIENT_KEY = "d5ead6fdd3d16630aad4f07f5e49486337a42e58fb4eef0deaabb814c003b134"
CLIENT_ADDRESS = "ST3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG3QG2915"
FREELANCER_KEY = "7c36b0a9dedde119c75165957c6c9c187e65df1ee5db87c4c58ad503ad88cbe3"
FREELANCER_ADDRESS = "STHPB7QBDXSY5S8QTX8ZXVSRP2AZNVX951ZA4RFX"
VECTOR_1_MESSAGE = (
    "Sign in to STXWORX as client on app.example.com at 2026-01-01T00:00:00.000Z "
    "nonce=a8f5132cc64d5b48"
)
VECTOR_1_RSV = (
    "a9856fcdf90f04aa760ed65c2dca4dedd55b8d71d49f2c79a8d59be324076c24"
    "4996deb4b9985b4e200baa5eec44aade273eb17b0e64022a3afb525390cc8b4e00"
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # CI always runs it (.ci/run installs chromium and node); elsewhere it needs both.
    pytest.mark.skipif(
        os.environ.get("CI") != "true" and (NODE_MISSING or not CHROMIUM.exists()),
        reason="needs Debian's chromium and node (apt-get install chromium nodejs npm; .ci/run "
        "does)",
    ),
]


# --- the page: bundles and a static server on its own origin --------------------------------


@pytest.fixture(scope="module")
def node_modules() -> Path:
    return ts.node_modules()


@pytest.fixture(scope="module")
def bundles(node_modules, tmp_path_factory) -> Path:
    """app.js (the page: the client and helpers) and wallet.js (the test wallet), built by esbuild
    from clients/typescript/ (versions pinned in its package-lock.json)."""
    out = tmp_path_factory.mktemp("frontend")
    esbuild = str(node_modules / ".bin" / "esbuild")
    common = [
        "--bundle",
        "--format=iife",
        "--platform=browser",
        "--target=es2020",
        "--log-level=error",
    ]
    builds = [
        # @stacks/connect loads WalletConnect (@reown/*) only when given a project id; never here.
        ["e2e/app.ts", f"--outfile={out / 'app.js'}", "--external:@reown/*"],
        ["e2e/wallet.ts", f"--outfile={out / 'wallet.js'}", "--global-name=TestWallet"],
    ]
    for build in builds:
        done = subprocess.run(
            [esbuild, *build, *common], cwd=ts.CLIENT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    shutil.copy(ts.CLIENT / "e2e" / "index.html", out / "index.html")
    return out


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def static_origin(bundles) -> Iterator[Callable[[], str]]:
    """Serve the page's directory on a loopback port of its own: another origin than the API."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> str:
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(_QuietHandler, directory=str(bundles))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def frontend(static_origin) -> str:
    """The frontend's origin, the one the API allows."""
    return static_origin()


# --- the API: the web server on the test database -----------------------------------------


def database_env() -> dict[str, str]:
    """The environment that points a process of the project at the database this test uses."""
    from django.db import connection

    env = {**os.environ}
    name = connection.settings_dict["NAME"]  # the test database's, once pytest-django made it
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(name)
    else:
        env["DATABASE_URL"] = (
            urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()
        )
    return env


@pytest.fixture
def api_server(transactional_db, frontend, tmp_path) -> Iterator[str]:
    """The API server, as the project serves it (uvicorn: HTTP and WebSocket), on the test
    database, allowing the frontend's origin for CORS and binding sign-in to it. The one place
    the server starts: if `make run` changes how it serves, only this changes."""
    env = database_env()
    env.update(
        PYTHONUNBUFFERED="1",
        CHANNELS_PREFIX=f"fe{os.getpid()}",
        CORS_ALLOWED_ORIGINS=frontend,
        AUTH_DOMAIN=urlsplit(frontend).netloc,
        AUTH_URI=f"{frontend}/login",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = tmp_path / "web.log"
    before = _other_sessions()
    try:
        with web_server(env, log) as base:
            yield base
        _wait_for_sessions_to_end(before)
    finally:
        if log.exists():
            print(log.read_text()[-4000:])  # shown when the test fails


def _other_sessions() -> set[int] | None:
    """The ids of the other PostgreSQL sessions on the test database (None on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def _wait_for_sessions_to_end(before: set[int] | None, seconds: float = 10) -> None:
    """PostgreSQL ends a stopped server's sessions a moment after it exits; until then the test
    database cannot be dropped at the end of the run. Wait for those started since `before`."""
    deadline = time.monotonic() + seconds
    while before is not None and time.monotonic() < deadline:
        if not (_other_sessions() or set()) - before:
            return
        time.sleep(0.05)


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture
def browser():
    """Chromium; while it runs, the test asks the API, never the ORM (Playwright's sync API keeps
    an event loop in this thread, and an ORM call there would hold a connection of its own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, bundles):
    """A page of the frontend in a browser context of its own, with this key's wallet."""
    wallet = (bundles / "wallet.js").read_text()

    def open_(origin: str, api_base: str, key: str):
        context = browser.new_context()
        install = json.dumps({"privateKey": key, "network": "testnet"})
        context.add_init_script(script=f"{wallet}\nTestWallet.install({install});")
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(f"{origin}/index.html?api={api_base}")
        page.wait_for_selector("body[data-ready=true]")
        return page

    return open_


def run(page, step: str, *args):
    """Call window.app.<step>(...args) in the page; the step's {ok, value | error}."""
    return page.evaluate(f"(args) => window.app.{step}(...args)", list(args))


def ok(page, step: str, *args):
    result = run(page, step, *args)
    assert result["ok"], result
    return result["value"]


def heard(page) -> dict:
    return page.evaluate("window.app.heard()")


def wait_heard(page, condition: str, timeout: float = 20_000) -> dict:
    page.wait_for_function(
        f"() => {{ const h = window.app.heard(); return {condition}; }}", timeout=timeout
    )
    return heard(page)


JOB = {
    "title": "A logo for a Clarity wallet",
    "description": "Two rounds: a draft, then the final files.",
    "category": "design",
    "skills": ["logo", "svg"],
    "token": "STX",
    "budget": 5_000_000,
    "milestones": [
        {"title": "Draft", "amount": 2_000_000, "dueDate": "2027-01-10"},
        {"title": "Final files", "amount": 3_000_000},
    ],
}
PROPOSAL = {
    "coverLetter": "I draw wallets' logos; two rounds suit me.",
    "proposedBudget": 5_000_000,
    "proposedDuration": 14,
    "portfolioLinks": ["https://github.com/freelancer/logos"],
}


def test_the_frontend_signs_in_posts_a_job_proposes_accepts_and_hears_it(
    api_server, frontend, open_page
):
    api = api_server
    client = open_page(frontend, api, CLIENT_KEY)
    freelancer = open_page(frontend, api, FREELANCER_KEY)

    # the test wallet signs like a real one: SIGNING.md's vector 1, byte for byte
    signed = client.evaluate(
        "(message) => window.StacksProvider.request('stx_signMessage', {message})",
        VECTOR_1_MESSAGE,
    )
    assert signed["result"]["signature"] == VECTOR_1_RSV
    client.evaluate("window.__walletCalls.length = 0")

    # not signed in: a 401 in the error envelope, read through the client
    refused = run(client, "me")
    assert not refused["ok"] and refused["error"]["status"] == 401
    assert refused["error"]["code"] == "not_authenticated"

    # both sign in with their wallets: challenge -> stx_signMessage -> verify
    assert ok(client, "signIn")["address"] == CLIENT_ADDRESS
    assert ok(freelancer, "signIn")["address"] == FREELANCER_ADDRESS
    calls = client.evaluate("window.__walletCalls")
    assert [c["method"] for c in calls] == ["getAddresses", "stx_signMessage"]
    challenge = calls[1]["params"]["message"]
    # the challenge binds the session to the frontend's origin and the wallet's address
    assert challenge.startswith(f"{urlsplit(frontend).netloc} wants you to sign in")
    assert f"\n{CLIENT_ADDRESS}\n" in challenge and f"URI: {frontend}/login" in challenge
    assert ok(client, "me")["address"] == CLIENT_ADDRESS

    # the freelancer's page listens for notifications from now on
    freelancer.evaluate("window.app.listen()")
    wait_heard(freelancer, "h.statuses.includes('open')")

    # the client posts a job with two milestones; a malformed one is a 400 naming the field
    bad = run(client, "postJob", {**JOB, "budget": "five"})
    assert not bad["ok"] and bad["error"]["status"] == 400, bad
    assert bad["error"]["code"] == "validation_error" and "budget" in bad["error"]["details"]
    project = ok(client, "postJob", JOB)
    assert project["status"] == "open" and project["clientAddress"] == CLIENT_ADDRESS
    assert [(m["title"], m["amount"]) for m in project["milestones"]] == [
        ("Draft", 2_000_000),
        ("Final files", 3_000_000),
    ]

    # the freelancer finds it in the open jobs (a page of the list envelope) and proposes
    jobs = ok(freelancer, "openJobs", "Clarity wallet")
    assert (jobs["count"], jobs["page"], jobs["next"]) == (1, 1, None)
    assert [j["id"] for j in jobs["results"]] == [project["id"]]
    proposal = ok(freelancer, "propose", project["id"], PROPOSAL)
    assert proposal["status"] == "pending" and proposal["freelancerAddress"] == FREELANCER_ADDRESS

    # the client's page opens its stream from the start: the proposal comes by resume
    received = ok(client, "proposalsOf", project["id"])
    assert received["count"] == 1 and received["results"][0]["id"] == proposal["id"]
    client.evaluate("window.app.listen(0)")
    news = wait_heard(client, "h.received.length >= 1")["received"]
    assert [(n["type"], n["projectId"]) for n in news] == [("proposal_received", project["id"])]

    # the freelancer's connection drops; the helper gets a new ticket and reconnects
    freelancer.evaluate("window.app.dropSocket()")
    wait_heard(freelancer, "h.statuses.filter((s) => s === 'open').length === 2")

    # the client accepts; the freelancer's page hears it, once
    accepted = ok(client, "accept", proposal["id"])
    assert accepted["status"] == "accepted"
    news = wait_heard(freelancer, "h.received.length >= 1")["received"]
    assert [(n["type"], n["projectId"]) for n in news] == [("proposal_accepted", project["id"])]
    assert "was accepted" in news[0]["message"]
    assert heard(freelancer)["statuses"] == ["connecting", "open", "reconnecting", "open"]

    # accepting again: the project is no longer open, a 409 in the envelope
    again = run(client, "accept", proposal["id"])
    assert not again["ok"] and again["error"]["status"] == 409, again

    # signing out revokes the token: the client's stream is closed (4401) and stays closed
    ok(client, "signOut")
    wait_heard(client, "h.statuses.at(-1) === 'unauthorized'")
    assert run(client, "me")["error"]["status"] == 401

    ARTIFACTS.mkdir(exist_ok=True)
    freelancer.screenshot(path=str(ARTIFACTS / "frontend_freelancer.png"), full_page=True)
    assert client.errors == [] and freelancer.errors == []
    assert ok(freelancer, "proposal", proposal["id"])["status"] == "accepted"
    assert len(news) == 1 and heard(freelancer)["lastId"] == news[0]["id"]


def test_an_origin_the_api_does_not_allow_cannot_sign_in(api_server, static_origin, open_page):
    """CORS is real: the same page from an origin not in CORS_ALLOWED_ORIGINS gets nothing."""
    stranger = open_page(static_origin(), api_server, CLIENT_KEY)
    refused = run(stranger, "signIn")
    assert not refused["ok"] and refused["error"]["code"] == "network_error", refused
    assert stranger.evaluate("window.__walletCalls") == [
        {"method": "getAddresses", "params": None}
    ]  # the wallet was never asked to sign


def test_the_server_serves_the_schema_the_client_was_generated_from(api_server):
    with urllib.request.urlopen(f"{api_server}/api/schema/", timeout=10) as response:
        assert response.read() == ts.SCHEMA.read_bytes(), "run `make client` and commit"
