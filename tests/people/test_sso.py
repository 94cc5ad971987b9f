"""Single sign-on through the company's OpenID Connect provider.

The provider is real: django-oauth-toolkit with OpenID Connect and RS256, in its own process on
127.0.0.1 (tests/oidc_provider). Levelset talks to it over HTTP exactly as it would talk to a
company's provider: the browser is redirected there and back, Levelset exchanges the code,
checks the ID token's signature against the provider's published keys, its nonce against the
one this browser's session sent, and matches the verified e-mail address to one of its people.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from core.actors import system_actor
from people import events, services
from people.models import Team
from people.sso import Refusal, match_person, refusal_of
from tests.browser.conftest import axe_problems
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_NAME = "Example Corp"
KNOWN = "ada.lovelace@example.com"  # Levelset has her as "Ada.Lovelace@Example.com"
UNKNOWN = "grace.hopper@example.com"  # nobody in Levelset
UNVERIFIED = "alan.turing@example.com"  # in Levelset, but the provider has not verified it
OP_PASSWORD = "op-password"
BACKEND = "people.sso.CompanySSOBackend"


# ---- the provider, the people, and Levelset pointed at the provider ------------------------


@pytest.fixture(scope="session")
def op(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The identity provider, running for the whole session. It knows Levelset's callback on
    the live server (the browser tests) and on the test client's "testserver"."""
    pytest.importorskip("oauth2_provider", reason="django-oauth-toolkit (a dev dependency)")
    from tests.oidc_provider import process

    provider = process.start(
        tmp_path_factory.mktemp("oidc-provider"),
        redirect_uris=[f"{live_server.url}/oidc/callback/", "http://testserver/oidc/callback/"],
        people={KNOWN: OP_PASSWORD, UNKNOWN: OP_PASSWORD, UNVERIFIED: OP_PASSWORD},
        unverified=frozenset({UNVERIFIED}),
    )
    yield provider
    provider.stop()


@pytest.fixture
def sso(settings: Any, op: Any) -> Any:
    """Levelset configured for the provider, as the OIDC_* environment would configure it."""
    for name, value in op.levelset_settings().items():
        setattr(settings, name, value)
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, BACKEND]
    return op


@pytest.fixture
def sso_unreachable(settings: Any) -> None:
    """Levelset configured for a provider nobody answers for (port 9, discard): for what must
    be decided before Levelset ever talks to the provider."""
    base = "http://127.0.0.1:9/o"
    settings.OIDC_RP_CLIENT_ID = "levelset"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{base}/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{base}/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{base}/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{base}/.well-known/jwks.json"
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, BACKEND]


def imported_person(email: str, username: str, *, active: bool = True) -> Any:
    """A person as the organisation import adds them: through people's services, as the
    system, with an engineer profile and the engineer role."""
    system = system_actor()
    team = Team.objects.filter(slug="payments").first() or services.team_create(
        actor=system, slug="payments", name="Payments"
    )
    # Named as HR knows her, not as the provider does ("Ada Lovelace").
    person = services.person_create(
        actor=system, username=username, email=email, first_name="Augusta Ada", last_name="King"
    )
    services.person_set_roles(actor=system, user=person, roles=["engineer"])
    services.engineer_create(
        actor=system,
        user=person,
        team=team,
        level_code="L4",
        start_date=datetime.date(2022, 1, 1),
    )
    if not active:
        services.person_update(actor=system, user=person, is_active=False)
    return person


def refusals() -> list[dict[str, Any]]:
    return list(
        AuditEvent.objects.filter(action=events.SSO_REFUSED)
        .order_by("seq")
        .values_list("payload", flat=True)
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def provider_answer(authorize_url: str, email: str, password: str = OP_PASSWORD) -> str:
    """Sign in at the provider as `email` (in a session of its own) and return where it sends
    the browser back: Levelset's callback with a fresh code and the state it was given."""
    op = requests.Session()
    to_login = op.get(authorize_url, allow_redirects=False, timeout=10)
    assert to_login.status_code == 302, to_login.text
    login_url = urljoin(authorize_url, to_login.headers["Location"])
    op.get(login_url, timeout=10).raise_for_status()
    signed_in = op.post(
        login_url,
        data={
            "csrfmiddlewaretoken": op.cookies["opcsrftoken"],
            "username": email,
            "password": password,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == 302, signed_in.text
    back = op.get(urljoin(login_url, signed_in.headers["Location"]), allow_redirects=False)
    assert back.status_code == 302 and "code=" in back.headers["Location"], back.text
    return str(back.headers["Location"])


def client_sign_in(client: Client, email: str) -> Any:
    """The whole code flow for the Django test client, the provider's side included."""
    start = client.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302
    callback = provider_answer(start["Location"], email)
    return client.get(callback.replace("http://testserver", ""))


# ---- in Chromium, through the real redirects -----------------------------------------------


def op_sign_in(page: Any, op: Any, email: str) -> None:
    page.wait_for_url(re.compile(re.escape(op.url) + r"/accounts/login/"))
    page.fill("#id_username", email)
    page.fill("#id_password", OP_PASSWORD)
    page.click("#op-sign-in")


def csp_violations(page: Any) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return found


@pytest.mark.browser
def test_a_known_person_signs_in_through_the_provider(
    sso: Any, page: Any, live_server: Any
) -> None:
    person = imported_person("Ada.Lovelace@Example.com", "ada")
    stored = (person.first_name, person.last_name, person.email)
    blocked = csp_violations(page)
    page.goto(f"{live_server.url}/login/")
    assert axe_problems(page) == []
    button = page.locator("#sso-sign-in")
    assert button.inner_text() == f"Sign in with {PROVIDER_NAME}"
    button.click()  # to the provider, its sign-in page, and back through Levelset's callback
    op_sign_in(page, sso, KNOWN)
    page.wait_for_url(f"{live_server.url}/reviews/")
    assert page.locator("a.who").inner_text() == "Augusta Ada King"
    assert blocked == []  # Levelset's Content-Security-Policy let every redirect through

    signed_in = AuditEvent.objects.get(action=events.SSO_SIGNED_IN)
    assert signed_in.actor_id == person.pk and signed_in.target_id == str(person.pk)
    assert refusals() == []
    person.refresh_from_db()  # the provider's name for her changed nothing
    assert (person.first_name, person.last_name, person.email) == stored


@pytest.mark.browser
def test_an_unknown_person_lands_on_a_page_that_says_why(
    sso: Any, page: Any, live_server: Any
) -> None:
    imported_person("Ada.Lovelace@Example.com", "ada")
    page.goto(f"{live_server.url}/login/")
    page.click("#sso-sign-in")
    op_sign_in(page, sso, UNKNOWN)
    page.wait_for_url(f"{live_server.url}/login/refused/")
    assert page.locator("h1").inner_text() == "Sign-in refused"
    assert page.locator("#sso-email").inner_text() == UNKNOWN
    body = page.locator("main").inner_text()
    assert "not set up in Levelset" in body and "Ask HR" in body
    assert "Traceback" not in page.content()
    assert axe_problems(page) == []
    assert page.locator("a.who").count() == 0  # nobody signed in
    assert [r["reason"] for r in refusals()] == ["unknown"]
    assert refusals()[0]["email"] == UNKNOWN
    assert get_user_model().objects.filter(email__iexact=UNKNOWN).count() == 0


@pytest.mark.browser
def test_an_answer_with_another_state_is_refused_and_the_right_one_is_not(
    sso: Any, page: Any, live_server: Any
) -> None:
    imported_person("Ada.Lovelace@Example.com", "ada")
    # This browser starts a sign-in; the provider issues a real code for it.
    start = page.context.request.get(f"{live_server.url}/oidc/authenticate/", max_redirects=0)
    callback = provider_answer(start.headers["location"], KNOWN)
    answer = query(callback)

    # The same real code with a state this browser never sent: refused.
    page.goto(f"{live_server.url}/oidc/callback/?code={answer['code']}&state=WRONG")
    page.wait_for_url(f"{live_server.url}/login/refused/")
    assert "did not belong to a sign-in started in this browser" in page.inner_text("main")
    assert page.locator("a.who").count() == 0
    assert [r["reason"] for r in refusals()] == ["state"]

    # Only the state was wrong: the code with its own state signs in.
    page.goto(callback)
    page.wait_for_url(f"{live_server.url}/reviews/")
    assert page.locator("a.who").inner_text() == "Augusta Ada King"


@pytest.mark.browser
def test_a_code_issued_for_another_sign_in_is_refused_by_its_nonce(
    sso: Any, browser: Any, page: Any, live_server: Any
) -> None:
    """Code injection: an attacker signs in at the provider in their own browser (A), keeps
    the code the provider sends back, and makes a victim's browser (B) present it to Levelset
    with the state of a sign-in B started itself. The state is B's own, so the state check
    passes, and the code is real and unused, so the provider exchanges it; only the nonce
    tells them apart: the ID token carries A's nonce, and B's session expects B's."""
    imported_person("Ada.Lovelace@Example.com", "ada")
    attacker = browser.new_context()
    try:
        start_a = attacker.request.get(f"{live_server.url}/oidc/authenticate/", max_redirects=0)
        stolen = query(provider_answer(start_a.headers["location"], KNOWN))
    finally:
        attacker.close()

    start_b = page.context.request.get(f"{live_server.url}/oidc/authenticate/", max_redirects=0)
    state_b = query(start_b.headers["location"])["state"]
    assert state_b != stolen["state"]
    page.goto(f"{live_server.url}/oidc/callback/?code={stolen['code']}&state={state_b}")
    page.wait_for_url(f"{live_server.url}/login/refused/")
    assert "could not be verified" in page.inner_text("main")
    assert page.locator("a.who").count() == 0
    [refused] = refusals()
    assert refused["reason"] == "token"
    assert "Nonce" in refused["detail"]  # the exchange happened; the nonce refused it
    assert not AuditEvent.objects.filter(action=events.SSO_SIGNED_IN).exists()


# ---- through the provider, without a browser -------------------------------------------------


def test_an_address_the_provider_has_not_verified_is_refused(sso: Any) -> None:
    imported_person(UNVERIFIED, "alan")
    client = Client()
    response = client_sign_in(client, UNVERIFIED)
    assert response.status_code == 302 and response["Location"] == reverse("sso-refused")
    assert "_auth_user_id" not in client.session
    assert [r["reason"] for r in refusals()] == ["unverified"]
    page = client.get(response["Location"])
    assert page.status_code == 403
    assert UNVERIFIED in page.content.decode()


def test_refused_sign_ins_do_not_lock_the_provider_out_for_everyone_at_one_address(
    sso: Any, settings: Any
) -> None:
    person = imported_person("Ada.Lovelace@Example.com", "ada")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        assert client_sign_in(Client(), UNKNOWN)["Location"] == reverse("sso-refused")
    client = Client()
    assert client_sign_in(client, KNOWN)["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(person.pk)
    assert client.session["_auth_user_backend"] == BACKEND


def test_a_person_deactivated_after_signing_in_is_signed_out(sso: Any) -> None:
    person = imported_person("Ada.Lovelace@Example.com", "ada")
    client = Client()
    client_sign_in(client, KNOWN)
    assert client.get(reverse("reviews:list")).status_code == 200
    services.person_update(actor=system_actor(), user=person, is_active=False)
    assert client.get(reverse("reviews:list"))["Location"].startswith(reverse("login"))


# ---- the matching rule -----------------------------------------------------------------------


def claims(email: str = KNOWN, verified: Any = True, **more: Any) -> dict[str, Any]:
    return {"sub": "1", "email": email, "email_verified": verified, **more}


def matched(claim_set: dict[str, Any]) -> tuple[Any, Refusal | None]:
    request = RequestFactory().get("/oidc/callback/")
    person = match_person(request, claim_set)
    refusal = refusal_of(request)
    return person, refusal.reason if refusal else None


@pytest.mark.django_db
def test_the_one_active_person_with_the_verified_address_is_matched_whatever_its_case() -> None:
    person = imported_person("Ada.Lovelace@Example.com", "ada")
    assert matched(claims("ADA.LOVELACE@example.COM")) == (person, None)
    assert matched(claims(verified="true")) == (person, None)  # some providers send a string


@pytest.mark.django_db
@pytest.mark.parametrize("verified", [False, None, "false", 1, "yes"])
def test_an_unverified_address_is_refused(verified: Any) -> None:
    imported_person("Ada.Lovelace@Example.com", "ada")
    assert matched(claims(verified=verified)) == (None, Refusal.UNVERIFIED)
    assert matched({"sub": "1", "email": KNOWN}) == (None, Refusal.UNVERIFIED)


@pytest.mark.django_db
def test_no_address_is_refused() -> None:
    assert matched({"sub": "1", "email_verified": True}) == (None, Refusal.NO_EMAIL)
    assert matched(claims(email="  ")) == (None, Refusal.NO_EMAIL)


@pytest.mark.django_db
def test_two_people_with_one_address_are_refused() -> None:
    imported_person("Ada.Lovelace@Example.com", "ada")
    UserFactory(username="ada2", email="ada.lovelace@EXAMPLE.com")
    assert matched(claims()) == (None, Refusal.AMBIGUOUS)


@pytest.mark.django_db
def test_a_deactivated_person_is_refused_and_an_active_namesake_is_not() -> None:
    leaver = imported_person("Ada.Lovelace@Example.com", "ada", active=False)
    request = RequestFactory().get("/oidc/callback/")
    assert match_person(request, claims()) is None
    refusal = refusal_of(request)
    assert refusal is not None and refusal.reason == Refusal.INACTIVE
    assert refusal.person == leaver
    # The address now belongs to someone else who is active: they are the one matched.
    joiner = UserFactory(username="ada-again", email=KNOWN)
    assert matched(claims()) == (joiner, None)


@pytest.mark.django_db
def test_an_unknown_address_is_refused_and_nobody_is_created() -> None:
    assert matched(claims(UNKNOWN)) == (None, Refusal.UNKNOWN)
    assert not get_user_model().objects.filter(email=UNKNOWN).exists()


@pytest.mark.django_db
def test_an_unknown_address_becomes_a_person_with_no_role_when_allowed(settings: Any) -> None:
    settings.OIDC_CREATE_UNKNOWN_USERS = True
    person, refusal = matched(claims(UNKNOWN, given_name="Grace", family_name="Hopper"))
    assert refusal is None
    assert (person.username, person.email, person.get_full_name()) == (
        UNKNOWN,
        UNKNOWN,
        "Grace Hopper",
    )
    assert not person.has_usable_password() and not person.groups.exists()
    created = AuditEvent.objects.get(action=events.PERSON_CREATED, target_id=str(person.pk))
    assert created.actor_repr == "system"
    # An address already taken as a user name is refused, not merged.
    other = UserFactory(username="someone@example.com", email="elsewhere@example.com")
    assert other.email != "someone@example.com"
    assert matched(claims("Someone@example.com")) == (None, Refusal.CONFLICT)


# ---- the callback, decided before Levelset talks to the provider ----------------------------


@pytest.mark.django_db
def test_an_answer_to_a_sign_in_this_browser_never_started_is_refused(
    sso_unreachable: None,
) -> None:
    client = Client()
    response = client.get("/oidc/callback/?code=abc&state=WRONG")
    assert response["Location"] == reverse("sso-refused")
    page = client.get(response["Location"])
    assert page.status_code == 403
    assert "did not belong to a sign-in started in this browser" in page.content.decode()
    # Started, but answered with another state.
    client.get(reverse("oidc_authentication_init"))
    assert client.get("/oidc/callback/?code=abc&state=WRONG")["Location"] == reverse("sso-refused")
    assert [r["reason"] for r in refusals()] == ["state", "state"]
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_provider_that_does_not_answer_is_a_refusal_not_an_error(
    sso_unreachable: None,
) -> None:
    client = Client()
    start = client.get(reverse("oidc_authentication_init"))
    state = query(start["Location"])["state"]
    response = client.get(f"/oidc/callback/?code=abc&state={state}")
    assert response["Location"] == reverse("sso-refused")
    assert [r["reason"] for r in refusals()] == ["provider"]
    body = client.get(response["Location"]).content.decode()
    assert "Start again" in body and "Traceback" not in body


@pytest.mark.django_db
def test_the_sign_in_request_carries_a_fresh_state_and_nonce(sso_unreachable: None) -> None:
    client = Client()
    first = query(client.get(reverse("oidc_authentication_init"))["Location"])
    second = query(client.get(reverse("oidc_authentication_init"))["Location"])
    assert first["scope"] == "openid email profile"
    assert first["redirect_uri"] == "http://testserver/oidc/callback/"
    assert len(first["nonce"]) >= 32 and len(first["state"]) >= 32
    assert first["nonce"] != second["nonce"] and first["state"] != second["state"]
    assert set(client.session["oidc_states"]) == {first["state"], second["state"]}


@pytest.mark.django_db
def test_without_single_sign_on_its_addresses_do_not_exist() -> None:
    assert Client().get(reverse("oidc_authentication_init")).status_code == 404
    assert Client().get("/oidc/callback/?code=a&state=b").status_code == 404
    page = Client().get(reverse("login")).content.decode()
    assert 'id="sso-sign-in"' not in page and 'name="password"' in page


@pytest.mark.django_db
def test_a_password_sign_in_never_reaches_the_provider(sso_unreachable: None) -> None:
    """Django offers every backend every set of credentials; a wrong password with a code in
    the address must not make Levelset call the provider (which here does not answer)."""
    engineer = UserFactory(username="eng-ada")
    request = RequestFactory().post("/login/?code=abc&state=def")
    assert auth.authenticate(request, username=engineer.username, password="wrong") is None
    response = Client().post("/login/?code=abc&state=def", {"username": "eng-ada", "password": "x"})
    assert response.status_code == 200  # the form's "wrong password", not a provider error


# ---- the sign-in page and PASSWORD_SIGN_IN ----------------------------------------------------


@pytest.mark.django_db
def test_the_sign_in_page_offers_the_provider_and_passwords(sso_unreachable: None) -> None:
    page = Client().get(reverse("login") + "?next=/rubrics/").content.decode()
    assert f">Sign in with {PROVIDER_NAME}</a>" in page
    assert 'href="/oidc/authenticate/?next=/rubrics/"' in page
    assert 'name="password"' in page


@pytest.mark.django_db
def test_with_password_sign_in_off_a_correct_password_is_refused_everywhere(
    sso_unreachable: None, settings: Any
) -> None:
    settings.PASSWORD_SIGN_IN = False
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)

    page = Client().get(reverse("login")).content.decode()
    assert 'id="sso-sign-in"' in page
    assert 'name="password"' not in page and "Forgot your password" not in page

    client = Client()
    response = client.post(reverse("login"), {"username": "root", "password": "pw"})
    assert response.status_code == 403
    assert "does not accept passwords" in response.content.decode()
    assert "_auth_user_id" not in client.session

    # The admin's own sign-in form goes through the backends: they refuse.
    admin_client = Client()
    response = admin_client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "pw"}
    )
    assert response.status_code == 200 and "_auth_user_id" not in admin_client.session
    assert admin_client.get("/admin/").status_code == 302
    assert auth.authenticate(RequestFactory().post("/"), username="root", password="pw") is None

    # The same password is right: with password sign-in on, it signs in.
    settings.PASSWORD_SIGN_IN = True
    assert auth.authenticate(RequestFactory().post("/"), username="root", password="pw") == admin


# ---- settings fail loudly ------------------------------------------------------------------

FULL = {
    "OIDC_RP_CLIENT_ID": "levelset",
    "OIDC_RP_CLIENT_SECRET": "secret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://id.example.com/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://id.example.com/token",
    "OIDC_OP_USER_ENDPOINT": "https://id.example.com/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://id.example.com/jwks",
}
SHOW = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.AUTHENTICATION_BACKENDS[-1], settings.PASSWORD_SIGN_IN)"
)


def start_with(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "PASSWORD_"))}
    clean.pop("DATABASE_URL", None)
    clean |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LEVELSET_VAR_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "missing", ["OIDC_RP_CLIENT_SECRET", "OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_JWKS_ENDPOINT"]
)
def test_a_half_configured_provider_stops_the_server_from_starting(
    missing: str, tmp_path: Path
) -> None:
    done = start_with({k: v for k, v in FULL.items() if k != missing}, tmp_path)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and missing in done.stderr


def test_password_sign_in_off_without_a_provider_stops_the_server(tmp_path: Path) -> None:
    done = start_with({"PASSWORD_SIGN_IN": "false"}, tmp_path)
    assert done.returncode != 0 and "nobody could sign in" in done.stderr


def test_a_full_configuration_turns_single_sign_on_on(tmp_path: Path) -> None:
    done = start_with({**FULL, "PASSWORD_SIGN_IN": "false"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [BACKEND, "False"]
    without = start_with({}, tmp_path)
    assert without.returncode == 0, without.stderr
    assert without.stdout.split() == ["guardian.backends.ObjectPermissionBackend", "True"]
