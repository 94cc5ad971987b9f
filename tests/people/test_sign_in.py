"""Sign-in and sessions as an attacker would try them: guessing passwords, reusing a session
left open, stealing an API token, caching a signed-in page, tracking a reader through an
image, and a person taking back an account through the password pages."""

from __future__ import annotations

import datetime
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from audit.models import AuditEvent
from core.markdown import render_markdown
from core.middleware import IdleTimeoutMiddleware
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw"


def sign_in(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


# --- throttling and lockout ------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_from_that_address_even_for_the_right_one(
    engineer: Any,
) -> None:
    client = Client()
    for _ in range(4):
        response = sign_in(client, engineer.username, "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    locked = sign_in(client, engineer.username, "wrong")
    assert locked.status_code == 429
    assert "Sign-in paused" in locked.content.decode()

    right = sign_in(client, engineer.username, PASSWORD)
    assert right.status_code == 429
    body = right.content.decode()
    assert 'id="locked-out"' in body and "reset your password" in body
    assert "_auth_user_id" not in client.session

    # The same person from elsewhere, and another person from here, are not locked out.
    assert sign_in(Client(), engineer.username, PASSWORD, ip="10.0.0.2").status_code == 302
    other = UserFactory(username="eng-other")
    assert sign_in(Client(), other.username, PASSWORD).status_code == 302


def test_a_lockout_ends_after_the_cool_off(engineer: Any, settings: Any) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, engineer.username, "wrong")
    assert sign_in(client, engineer.username, PASSWORD).status_code == 429
    past = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert sign_in(client, engineer.username, PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(engineer: Any, settings: Any) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, engineer.username, "wrong")
    assert sign_in(client, engineer.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, engineer.username, "wrong")
    assert sign_in(client, engineer.username, PASSWORD).status_code == 302


# --- idle timeout and session length ---------------------------------------------------------


def test_a_session_idle_for_longer_than_the_limit_is_signed_out(
    engineer: Any, settings: Any
) -> None:
    client = Client()
    assert sign_in(client, engineer.username, PASSWORD).status_code == 302
    assert client.get(reverse("reviews:list")).status_code == 200

    session = client.session
    session[IdleTimeoutMiddleware.KEY] = (
        time.time() - settings.LEVELSET_SESSION_IDLE.total_seconds() - 5
    )
    session.save()
    response = client.get(reverse("reviews:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert f"signed out after {int(settings.LEVELSET_SESSION_IDLE.total_seconds() // 60)}" in page


def test_activity_keeps_a_session_alive_and_costs_no_write_per_request(
    engineer: Any, settings: Any
) -> None:
    client = Client()
    sign_in(client, engineer.username, PASSWORD)
    started = client.session[IdleTimeoutMiddleware.KEY]
    client.get(reverse("reviews:list"))
    assert client.session[IdleTimeoutMiddleware.KEY] == started  # within a minute: no write

    session = client.session
    nearly_idle = time.time() - settings.LEVELSET_SESSION_IDLE.total_seconds() + 30
    session[IdleTimeoutMiddleware.KEY] = nearly_idle
    session.save()
    assert client.get(reverse("reviews:list")).status_code == 200
    assert client.session[IdleTimeoutMiddleware.KEY] > nearly_idle + 60  # clock restarted


def test_sessions_expire_after_a_working_day_not_two_weeks(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.LEVELSET_SESSION_IDLE.total_seconds() == 3600


# --- password change and reset ----------------------------------------------------------------


def test_a_person_changes_their_password_with_errors_beside_the_fields(engineer: Any) -> None:
    client = Client()
    client.force_login(engineer)
    url = reverse("password_change")
    assert reverse("password_change") in client.get(reverse("account")).content.decode()

    wrong = client.post(
        url, {"old_password": "nope", "new_password1": "x", "new_password2": "y"}
    ).content.decode()
    assert 'aria-invalid="true"' in wrong
    assert "Your old password was entered incorrectly" in wrong
    assert "didn’t match" in wrong or "didn't match" in wrong
    engineer.refresh_from_db()
    assert engineer.check_password(PASSWORD)

    new = "calibrated-quokka-42"
    done = client.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert done.status_code == 302 and done["Location"] == reverse("password_change_done")
    engineer.refresh_from_db()
    assert engineer.check_password(new)
    assert client.get(reverse("reviews:list")).status_code == 200  # still signed in here


def test_password_change_needs_a_signed_in_person() -> None:
    response = Client().get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def _reset_link(body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/password-reset/[^/\s]+/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def test_a_forgotten_password_is_reset_through_a_mailed_link(engineer: Any) -> None:
    client = Client()
    page = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in page

    sent = client.post(reverse("password_reset"), {"email": engineer.email})
    assert sent.status_code == 302 and sent["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [engineer.email]

    link = client.get(_reset_link(mail.outbox[0].body), follow=True)
    assert link.status_code == 200
    form_url = link.redirect_chain[-1][0]
    new = "calibrated-quokka-42"
    short = client.post(form_url, {"new_password1": "abc", "new_password2": "abc"})
    assert "too short" in short.content.decode()
    done = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    engineer.refresh_from_db()
    assert engineer.check_password(new)
    # The link works once.
    again = Client().get(_reset_link(mail.outbox[0].body), follow=True).content.decode()
    assert "This link is not valid any more" in again


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(engineer: Any) -> None:
    client = Client()
    known = client.post(reverse("password_reset"), {"email": engineer.email})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1


class _Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Any] = []

    def handle_message(self, message: Any) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[_Inbox]:
    """A real SMTP server on a free local port; Django sends to it over the network."""
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    try:
        yield inbox
    finally:
        controller.stop()


def test_the_reset_mail_goes_out_through_smtp(engineer: Any, smtp_server: _Inbox) -> None:
    Client().post(reverse("password_reset"), {"email": engineer.email})
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == engineer.email
    assert "Levelset" in message["Subject"]
    assert "/password-reset/" in message.get_payload()


# --- API tokens --------------------------------------------------------------------------------


def test_a_token_is_issued_once_stored_hashed_and_works_until_revoked(engineer: Any) -> None:
    session = APIClient()
    session.force_login(engineer)
    issued = session.post("/api/tokens/")
    assert issued.status_code == 201
    token = issued.json()["token"]
    key = issued.json()["token_key"]
    assert token.startswith(key)

    stored = AuthToken.objects.get(user=engineer)
    assert token not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # SHA-512 of the token, not the token
    assert stored.expiry > timezone.now() + datetime.timedelta(days=29)

    listed = session.get("/api/tokens/").json()
    assert listed == [
        {"token_key": key, "created": listed[0]["created"], "expiry": listed[0]["expiry"]}
    ]
    assert token not in str(listed)

    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert bearer.get("/api/me/").json()["username"] == engineer.username

    assert session.delete(f"/api/tokens/{key}/").status_code == 204
    assert bearer.get("/api/me/").status_code == 401
    actions = list(
        AuditEvent.objects.filter(action__startswith="people.token.").values_list(
            "action", "payload__token"
        )
    )
    assert actions == [("people.token.issued", key), ("people.token.revoked", key)]


def test_an_expired_token_is_refused(engineer: Any) -> None:
    instance, token = AuthToken.objects.create(user=engineer)
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now())
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert bearer.get("/api/me/").status_code == 401


def test_nobody_revokes_someone_elses_token(engineer: Any, manager: Any) -> None:
    instance, _ = AuthToken.objects.create(user=engineer)
    other = APIClient()
    other.force_login(manager)
    response = other.delete(f"/api/tokens/{instance.token_key}/")
    assert response.status_code == 400
    assert "no API token starting with" in response.json()["message"]
    assert AuthToken.objects.filter(pk=instance.pk).exists()


def test_live_tokens_are_limited(engineer: Any, settings: Any) -> None:
    session = APIClient()
    session.force_login(engineer)
    for _ in range(10):
        assert session.post("/api/tokens/").status_code == 201
    refused = session.post("/api/tokens/")
    assert refused.status_code == 409
    assert "revoke one first" in refused.json()["message"]
    assert AuthToken.objects.filter(user=engineer).count() == 10


def test_tokens_are_issued_and_revoked_from_the_account_page(engineer: Any) -> None:
    client = Client()
    client.force_login(engineer)
    page = client.post(reverse("account-token-issue"))
    assert page.status_code == 200
    token = re.search(r'id="new-token".*?<code>([^<]+)</code>', page.content.decode(), re.S)
    assert token is not None
    instance = AuthToken.objects.get(user=engineer)
    assert token.group(1).startswith(instance.token_key)
    # Shown once: the account page afterwards lists it by its first characters only.
    later = client.get(reverse("account")).content.decode()
    assert token.group(1) not in later and f"{instance.token_key}…" in later

    revoked = client.post(reverse("account-token-revoke", args=[instance.token_key]), follow=True)
    assert "revoked" in revoked.content.decode()
    assert not AuthToken.objects.filter(user=engineer).exists()


def test_the_old_plain_text_token_table_is_gone() -> None:
    from django.apps import apps

    assert not apps.is_installed("rest_framework.authtoken")


# --- response headers --------------------------------------------------------------------------


def test_pages_carry_a_csp_without_inline_script_and_a_permissions_policy(
    engineer: Any,
) -> None:
    client = Client()
    client.force_login(engineer)
    for url in (reverse("reviews:list"), reverse("account"), reverse("login"), "/api/docs/"):
        response = client.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
        assert directives["script-src"] == "'self'", url
        assert "frame-ancestors 'none'" in csp
        assert "camera=()" in response["Permissions-Policy"]
        body = response.content.decode()
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", body)
        assert inline == [], (url, inline)
        assert not re.search(r"\son[a-z]+=", body), url


def test_signed_in_responses_are_never_stored(engineer: Any) -> None:
    client = Client()
    client.force_login(engineer)
    for url in (reverse("reviews:list"), "/api/me/", "/api/reviews/"):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url

    bearer = APIClient()
    _, token = AuthToken.objects.create(user=engineer)
    bearer.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert "no-store" in bearer.get("/api/me/")["Cache-Control"]


# --- Markdown images ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "src",
    [
        "https://tracker.example/pixel.gif",
        "//tracker.example/pixel.gif",
        "/static/../media/x.png",
        "/static//tracker.example/x.png",
        "data:image/png;base64,AAAA",
        "/api/reviews/",
    ],
)
def test_markdown_images_from_elsewhere_are_dropped(src: str) -> None:
    html = render_markdown(f"Look: ![chart]({src})")
    assert src not in html
    assert "tracker" not in html


def test_markdown_images_from_levelsets_own_static_files_stay() -> None:
    html = render_markdown("![logo](/static/img/logo.svg)")
    assert '<img src="/static/img/logo.svg" alt="logo">' in html
