from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import auth
from accounts.models import SignInChallenge, User
from stacks.c32 import SECP256K1_N, TESTNET_MULTI_SIG, address_decode, address_from_hash160
from tests.accounts.signer import Wallet, bearer, sign_in
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db

SIWS = json.loads((Path(__file__).parents[1] / "data" / "siws_vectors.json").read_text())["vectors"]


@pytest.fixture
def wallet() -> Wallet:
    return Wallet.from_seed("alice")


def challenge_for(api: APIClient, address: str) -> dict:
    response = api.post("/api/auth/challenge", {"address": address}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def verify_body(wallet: Wallet, issued: dict, /, **change) -> dict:
    return {
        "address": wallet.address,
        "signature": wallet.sign(issued["challenge"]),
        "challenge": issued["challenge"],
        "publicKey": wallet.public_key,
        "nonce": issued["nonce"],
        **change,
    }


# --- the flow ------------------------------------------------------------------------------


def test_challenge_is_a_siws_message(anon, wallet):
    body = challenge_for(anon, wallet.address)
    lines = body["challenge"].split("\n")
    assert lines[0] == f"{settings.AUTH['DOMAIN']} wants you to sign in with your Stacks account:"
    assert lines[1] == wallet.address
    assert lines[3] == settings.AUTH["STATEMENT"]
    assert lines[5] == f"URI: {settings.AUTH['URI']}"
    assert lines[6:8] == ["Version: 1", "Chain ID: 2147483648"]
    assert lines[8] == f"Nonce: {body['nonce']}" and len(body["nonce"]) == 32
    assert lines[9].startswith("Issued At: ") and lines[10].startswith("Expiration Time: ")
    expires = datetime.fromisoformat(body["expiresAt"])
    assert timedelta(minutes=4) < expires - timezone.now() <= timedelta(minutes=5)
    assert not body["challenge"].endswith("\n")


def test_sign_in_creates_the_user_and_opens_a_session(anon, wallet):
    session = sign_in(anon, wallet)
    assert session["user"]["address"] == wallet.address
    assert User.objects.get(address=wallet.address).has_usable_password() is False
    me = bearer(session["token"]).get("/api/auth/me")
    assert me.status_code == 200 and me.json()["address"] == wallet.address
    claims = jwt.decode(session["token"], options={"verify_signature": False})
    assert set(claims) == {"iss", "aud", "sub", "iat", "exp", "jti"}
    assert claims["sub"] == wallet.address
    assert claims["exp"] - claims["iat"] == 24 * 3600
    # a second sign-in finds the same user
    assert sign_in(anon, wallet)["user"]["address"] == wallet.address
    assert User.objects.filter(address=wallet.address).count() == 1


def test_signed_in_user_can_use_the_api(anon, wallet):
    token = sign_in(anon, wallet)["token"]
    project = bearer(token).post(
        "/api/projects",
        {
            "title": "T",
            "description": "D",
            "token": "STX",
            "budget": 5,
            "milestones": [{"title": "m", "amount": 5}],
        },
        format="json",
    )
    assert project.status_code == 201, project.content
    assert project.json()["clientAddress"] == wallet.address


def test_nonce_and_public_key_are_optional(anon, wallet):
    challenge = challenge_for(anon, wallet.address)
    body = verify_body(wallet, challenge)
    del body["nonce"], body["publicKey"]
    assert anon.post("/api/auth/verify", body, format="json").status_code == 200


def test_signature_with_0x_prefix_and_high_s_are_accepted(anon, wallet):
    challenge = challenge_for(anon, wallet.address)
    sig = wallet.sign(challenge["challenge"])
    r, s, v = sig[:64], int(sig[64:128], 16), int(sig[128:], 16)
    high_s = r + f"{SECP256K1_N - s:064x}" + f"{v ^ 1:02x}"
    response = anon.post(
        "/api/auth/verify", verify_body(wallet, challenge, signature="0x" + high_s), format="json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("vector", SIWS, ids=[f"{v['network']}-{v['domain']}" for v in SIWS])
def test_signatures_made_by_stacks_js(anon, monkeypatch, vector):
    """The server issues the very message stacks.js signed (same nonce and clock), and accepts
    the library's signature."""
    issued = datetime.fromisoformat(vector["issuedAt"].replace("Z", "+00:00"))
    monkeypatch.setattr("accounts.auth.secrets.token_hex", lambda n: vector["nonce"])
    monkeypatch.setattr("django.utils.timezone.now", lambda: issued)
    conf = {**settings.AUTH, "DOMAIN": vector["domain"], "URI": vector["uri"]}
    with override_settings(STACKS_NETWORK=vector["network"], AUTH=conf):
        challenge = challenge_for(anon, vector["address"])
        assert challenge["challenge"] == vector["message"]
        response = anon.post(
            "/api/auth/verify",
            {
                "address": vector["address"],
                "signature": vector["signature"],
                "challenge": vector["message"],
                "publicKey": vector["publicKey"],
            },
            format="json",
        )
    assert response.status_code == 200, response.content
    assert response.json()["user"]["address"] == vector["address"]


# --- rejections: the challenge ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("", 400),  # the schema says no: blank, too long
        ("ST" + "0" * 100, 400),
        ("hello", 422),  # a string, but no address: past the schema
        ("SP3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG1T4WGB0", 422),  # mainnet, on a testnet deployment
        ("ST3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG3QG2916", 422),  # bad checksum
        (address_from_hash160(TESTNET_MULTI_SIG, b"\x01" * 20), 422),  # multi-sig cannot sign
    ],
)
def test_challenge_refuses_bad_addresses(anon, address, status):
    response = anon.post("/api/auth/challenge", {"address": address}, format="json")
    code = "validation_error" if status == 400 else "unprocessable"
    assert_error(response, status, code, "address")
    assert SignInChallenge.objects.count() == 0


def test_challenge_requires_an_address(anon):
    assert_error(anon.post("/api/auth/challenge", {}, format="json"), 400, field="address")
    assert_error(anon.post("/api/auth/challenge", {"address": 5}, format="json"), 400)


# --- rejections: verify ------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["address", "signature", "challenge"])
def test_verify_requires_fields(anon, wallet, missing):
    body = verify_body(wallet, challenge_for(anon, wallet.address))
    del body[missing]
    assert_error(anon.post("/api/auth/verify", body, format="json"), 400, field=missing)


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        # 400: the schema says no (patterns, lengths)
        ({"signature": "zz" * 65}, "signature", 400),
        ({"signature": "ab" * 64}, "signature", 400),
        ({"signature": "ab" * 66}, "signature", 400),
        ({"publicKey": "02" + "zz" * 32}, "publicKey", 400),
        ({"nonce": "../../etc"}, "nonce", 400),
        ({"challenge": "x" * 5000}, "challenge", 400),
        # 422: well formed, but cannot be right
        ({"signature": "ab" * 64 + "02"}, "signature", 422),  # recovery id must be 0 or 1
        ({"signature": "00" * 64 + "00"}, "signature", 422),  # r = s = 0
        ({"publicKey": "04" + "ab" * 32}, "publicKey", 422),  # not compressed
        ({"challenge": "x" * 3000}, "challenge", 422),  # over 2048 bytes, under the 4096 chars
        ({"address": "SP3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG1T4WGB0"}, "address", 422),
    ],
)
def test_verify_refuses_malformed_input(anon, wallet, change, field, status):
    body = verify_body(wallet, challenge_for(anon, wallet.address), **change)
    assert_error(anon.post("/api/auth/verify", body, format="json"), status, field=field)


def test_verify_refuses_a_challenge_without_nonce_line(anon, wallet):
    challenge = challenge_for(anon, wallet.address)
    body = verify_body(wallet, challenge, challenge="hello")
    del body["nonce"]
    assert_error(anon.post("/api/auth/verify", body, format="json"), 422, field="challenge")


def test_signature_by_another_key_is_refused(anon, wallet):
    challenge = challenge_for(anon, wallet.address)
    mallory = Wallet.from_seed("mallory")
    # Mallory signs Alice's challenge and sends her own key: the old Express bug.
    body = verify_body(
        wallet,
        challenge,
        signature=mallory.sign(challenge["challenge"]),
        publicKey=mallory.public_key,
    )
    assert_error(anon.post("/api/auth/verify", body, format="json"), 401, "address_mismatch")
    # ... or Alice's key, which the signature does not match
    body = verify_body(wallet, challenge, signature=mallory.sign(challenge["challenge"]))
    assert_error(anon.post("/api/auth/verify", body, format="json"), 401, "public_key_mismatch")
    assert not User.objects.filter(address=wallet.address).exists()


def test_signature_of_other_text_is_refused(anon, wallet):
    challenge = challenge_for(anon, wallet.address)
    changed = challenge["challenge"].replace("Sign in", "Sign on")
    body = verify_body(wallet, challenge, signature=wallet.sign(changed))
    assert_error(anon.post("/api/auth/verify", body, format="json"), 401, "public_key_mismatch")
    body = verify_body(wallet, challenge, signature=wallet.sign(changed), challenge=changed)
    assert_error(anon.post("/api/auth/verify", body, format="json"), 401, "challenge_mismatch")


def test_vrs_order_is_refused(anon, wallet):
    challenge = challenge_for(anon, wallet.address)
    sig = wallet.sign(challenge["challenge"])
    vrs = sig[128:] + sig[:128]
    response = anon.post(
        "/api/auth/verify", verify_body(wallet, challenge, signature=vrs), format="json"
    )
    assert response.status_code in (401, 422)  # well formed: never the schema's 400
    assert "error" in response.json()


def test_unknown_nonce_is_refused(anon, wallet):
    challenge = challenge_for(anon, wallet.address)
    body = verify_body(wallet, challenge, nonce="0" * 32)
    assert_error(anon.post("/api/auth/verify", body, format="json"), 401, "challenge_unknown")


def test_challenge_of_another_address_is_refused(anon, wallet):
    bob = Wallet.from_seed("bob")
    challenge = challenge_for(anon, bob.address)
    body = verify_body(wallet, challenge)  # Alice presents Bob's challenge, signed by herself
    assert_error(anon.post("/api/auth/verify", body, format="json"), 401, "challenge_unknown")


def test_expired_challenge_is_refused(anon, wallet, monkeypatch):
    challenge = challenge_for(anon, wallet.address)
    later = timezone.now() + timedelta(minutes=5, seconds=31)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    body = verify_body(wallet, challenge)
    assert_error(anon.post("/api/auth/verify", body, format="json"), 401, "challenge_expired")


def test_challenge_within_clock_skew_is_accepted(anon, wallet, monkeypatch):
    challenge = challenge_for(anon, wallet.address)
    later = timezone.now() + timedelta(minutes=5, seconds=20)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    assert (
        anon.post("/api/auth/verify", verify_body(wallet, challenge), format="json").status_code
        == 200
    )


def test_a_failed_attempt_does_not_burn_the_nonce_and_a_used_one_never_works(anon, wallet):
    challenge = challenge_for(anon, wallet.address)
    bad = verify_body(wallet, challenge, signature=Wallet.from_seed("x").sign("nope"))
    assert anon.post("/api/auth/verify", bad, format="json").status_code == 401
    good = verify_body(wallet, challenge)
    assert anon.post("/api/auth/verify", good, format="json").status_code == 200
    assert_error(anon.post("/api/auth/verify", good, format="json"), 401, "challenge_used")


def test_changed_deployment_fails_closed(anon, wallet):
    challenge = challenge_for(anon, wallet.address)
    with override_settings(AUTH={**settings.AUTH, "DOMAIN": "evil.example"}):
        response = anon.post("/api/auth/verify", verify_body(wallet, challenge), format="json")
    assert_error(response, 401, "challenge_unknown")


def test_disabled_account_cannot_sign_in(anon, wallet):
    User.objects.create_user(wallet.address, is_active=False)
    response = anon.post(
        "/api/auth/verify", verify_body(wallet, challenge_for(anon, wallet.address)), format="json"
    )
    assert_error(response, 401, "account_disabled")


@pytest.mark.django_db(transaction=True)
@override_settings(
    AUTH={**settings.AUTH, "RATE_PER_IP": "1000/min", "RATE_PER_ADDRESS": "1000/min"}
)
def test_twenty_concurrent_verifies_of_one_challenge_yield_one_token(wallet):
    challenge = challenge_for(APIClient(), wallet.address)
    body = verify_body(wallet, challenge)
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def attempt() -> None:
        try:
            barrier.wait()
            statuses.append(APIClient().post("/api/auth/verify", body, format="json").status_code)
        except Exception as exc:  # a crash must show up as a failure, not vanish with the thread
            statuses.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, statuses)) == ["200"] + ["401"] * 19, statuses
    assert User.objects.filter(address=wallet.address).count() == 1


# --- tokens ---------------------------------------------------------------------------------


def _claims(address: str, **change) -> dict:
    now = int(datetime.now(tz=UTC).timestamp())
    conf = settings.AUTH
    return {
        "iss": conf["JWT_ISSUER"],
        "aud": conf["JWT_AUDIENCE"],
        "sub": address,
        "iat": now,
        "exp": now + 3600,
        "jti": "j" * 32,
        **change,
    }


def _forge(claims: dict, key: str | None = None, alg: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.AUTH["JWT_SIGNING_KEY"], algorithm=alg)


def test_a_hand_made_valid_token_works(user):
    assert bearer(_forge(_claims(user.address))).get("/api/auth/me").status_code == 200


@pytest.mark.parametrize(
    ("make", "code"),
    [
        pytest.param(
            lambda a: _forge(_claims(a), key="another-key-" * 4), "token_invalid", id="wrong-key"
        ),
        pytest.param(lambda a: _forge(_claims(a), alg="HS384"), "token_invalid", id="other-alg"),
        pytest.param(lambda a: _forge(_claims(a, iss="someone")), "token_invalid", id="wrong-iss"),
        pytest.param(
            lambda a: _forge(_claims(a, aud="other-app")), "token_invalid", id="wrong-aud"
        ),
        pytest.param(lambda a: _forge(_claims(a, exp=1000)), "token_expired", id="expired"),
        pytest.param(
            lambda a: _forge({k: v for k, v in _claims(a).items() if k != "jti"}),
            "token_invalid",
            id="no-jti",
        ),
        pytest.param(
            lambda a: _forge(_claims("ST000000000000000000042DB08Y")),
            "token_user_unknown",
            id="unknown-user",
        ),
        pytest.param(
            lambda a: jwt.encode(_claims(a), None, algorithm="none"), "token_invalid", id="alg-none"
        ),
        pytest.param(lambda a: _tamper(_forge(_claims(a))), "token_invalid", id="tampered"),
        pytest.param(lambda a: "not.a.jwt", "token_invalid", id="garbage"),
    ],
)
def test_bad_tokens_get_401(user, make, code):
    response = bearer(make(user.address)).get("/api/auth/me")
    assert_error(response, 401, code)
    assert response["WWW-Authenticate"].startswith("Bearer")


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "ST000000000000000000042DB08Y"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_missing_or_malformed_header_is_401(anon, user):
    assert_error(anon.get("/api/auth/me"), 401, "not_authenticated")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer")
    assert_error(api.get("/api/auth/me"), 401)
    api.credentials(HTTP_AUTHORIZATION="Bearer a b")
    assert_error(api.get("/api/auth/me"), 401)


def test_logout_revokes_the_token(anon, wallet):
    token = sign_in(anon, wallet)["token"]
    api = bearer(token)
    assert api.post("/api/auth/logout").status_code == 204
    assert_error(api.get("/api/auth/me"), 401, "token_revoked")
    assert_error(api.post("/api/projects", {}, format="json"), 401)
    other = sign_in(anon, wallet)["token"]  # a new session is unaffected
    assert bearer(other).get("/api/auth/me").status_code == 200


# --- WebSocket tickets ------------------------------------------------------------------------


def test_ws_ticket_is_single_use_and_short_lived(anon, wallet, monkeypatch):
    token = sign_in(anon, wallet)["token"]
    response = bearer(token).post("/api/auth/ws-ticket")
    assert response.status_code == 200, response.content
    body = response.json()
    expires = datetime.fromisoformat(body["expiresAt"])
    assert timedelta(seconds=25) < expires - timezone.now() <= timedelta(seconds=30)
    record = auth.ws_ticket_redeem(ticket=body["ticket"])
    assert record is not None and record.user.address == wallet.address
    assert auth.ws_ticket_redeem(ticket=body["ticket"]) is None
    # expired
    late = bearer(token).post("/api/auth/ws-ticket").json()["ticket"]
    future = timezone.now() + timedelta(seconds=31)
    monkeypatch.setattr("django.utils.timezone.now", lambda: future)
    assert auth.ws_ticket_redeem(ticket=late) is None
    assert auth.ws_ticket_redeem(ticket="") is None
    assert auth.ws_ticket_redeem(ticket="x" * 500) is None


def test_ws_ticket_of_a_revoked_session_is_refused(anon, wallet):
    token = sign_in(anon, wallet)["token"]
    ticket = bearer(token).post("/api/auth/ws-ticket").json()["ticket"]
    bearer(token).post("/api/auth/logout")
    assert auth.ws_ticket_redeem(ticket=ticket) is None


def test_ws_ticket_requires_sign_in(anon):
    assert_error(anon.post("/api/auth/ws-ticket"), 401)


# --- rate limits ------------------------------------------------------------------------------


def test_rate_limit_per_ip(anon, wallet):
    with override_settings(AUTH={**settings.AUTH, "RATE_PER_IP": "3/min"}):
        for i in range(3):
            other = Wallet.from_seed(f"w{i}")
            assert (
                anon.post(
                    "/api/auth/challenge", {"address": other.address}, format="json"
                ).status_code
                == 200
            )
        response = anon.post("/api/auth/challenge", {"address": wallet.address}, format="json")
        assert_error(response, 429, "rate_limited")
        assert int(response["Retry-After"]) > 0
        elsewhere = APIClient(REMOTE_ADDR="10.9.9.9")
        assert (
            elsewhere.post(
                "/api/auth/challenge", {"address": wallet.address}, format="json"
            ).status_code
            == 200
        )


def test_rate_limit_per_address(wallet):
    with override_settings(AUTH={**settings.AUTH, "RATE_PER_ADDRESS": "2/min"}):
        for i in range(2):
            api = APIClient(REMOTE_ADDR=f"10.0.0.{i}")
            assert (
                api.post(
                    "/api/auth/challenge", {"address": wallet.address}, format="json"
                ).status_code
                == 200
            )
        api = APIClient(REMOTE_ADDR="10.0.0.99")
        response = api.post(
            "/api/auth/challenge", {"address": wallet.address.lower()}, format="json"
        )
        assert_error(response, 429, "rate_limited")


# --- protection -----------------------------------------------------------------------------

WRITES = [
    ("post", "/api/projects"),
    ("patch", "/api/projects/{p}"),
    ("put", "/api/projects/{p}/cancel"),
    ("post", "/api/projects/{p}/proposals"),
    ("put", "/api/projects/{p}/milestones/1/submission"),
    ("post", "/api/projects/{p}/reviews"),
    ("put", "/api/proposals/{q}/accept"),
    ("put", "/api/proposals/{q}/reject"),
    ("put", "/api/proposals/{q}/withdraw"),
    ("patch", "/api/users/me"),
    ("post", "/api/auth/logout"),
    ("post", "/api/auth/ws-ticket"),
]


@pytest.mark.parametrize(("method", "url"), WRITES)
def test_every_write_requires_sign_in(anon, method, url):
    from tests.factories import ProposalFactory

    proposal = ProposalFactory()
    response = getattr(anon, method)(
        url.format(p=proposal.project_id, q=proposal.pk), {}, format="json"
    )
    assert_error(response, 401, "not_authenticated")


def test_anonymous_reads_stay_open(anon, user):
    from tests.factories import ProjectFactory

    project = ProjectFactory()
    assert anon.get("/api/projects").status_code == 200
    assert anon.get(f"/api/projects/{project.pk}").status_code == 200
    assert anon.get(f"/api/users/{user.address}").status_code == 200


def test_staff_sign_in_to_the_admin_with_a_password(client):
    staff = User.objects.create_superuser(Wallet.from_seed("staff").address, "a-long-password-1")
    assert client.login(username=staff.address, password="a-long-password-1")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/projects/project/").status_code == 200


def test_address_normalisation(anon):
    wallet = Wallet.from_seed("carol")
    version, h160 = address_decode(wallet.address)
    body = challenge_for(anon, wallet.address.lower())
    assert wallet.address in body["challenge"]
    assert version == 26 and len(h160) == 20


def test_the_readme_wallet_script_signs_like_stacks_js():
    import subprocess
    import sys

    vector = SIWS[0]
    script = Path(__file__).parents[2] / "scripts" / "wallet.py"

    def run(*args: str, stdin: bytes = b"") -> str:
        done = subprocess.run(
            [sys.executable, str(script), *args], input=stdin, capture_output=True, check=True
        )
        return done.stdout.decode().strip()

    assert run("address", vector["privateKey"]) == vector["address"]
    assert run("pubkey", vector["privateKey"]) == vector["publicKey"]
    assert (
        run("sign", vector["privateKey"], stdin=vector["message"].encode()) == vector["signature"]
    )


def test_look_alike_spellings_share_the_address_rate_limit(wallet):
    look_alike = wallet.address[:2] + wallet.address[2:].replace("0", "O").replace("1", "L")
    assert look_alike != wallet.address
    with override_settings(AUTH={**settings.AUTH, "RATE_PER_ADDRESS": "1/min"}):
        first = APIClient(REMOTE_ADDR="10.1.0.1").post(
            "/api/auth/challenge", {"address": wallet.address}, format="json"
        )
        assert first.status_code == 200
        second = APIClient(REMOTE_ADDR="10.1.0.2").post(
            "/api/auth/challenge", {"address": look_alike.lower()}, format="json"
        )
        assert_error(second, 429, "rate_limited")


def test_expired_challenges_are_purged(anon, wallet, monkeypatch):
    challenge_for(anon, wallet.address)
    later = timezone.now() + timedelta(minutes=10)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    challenge_for(anon, Wallet.from_seed("someone").address)
    assert SignInChallenge.objects.count() == 1
