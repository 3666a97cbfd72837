"""Hardened settings, proved: Django's deployment check, HTTPS and browser headers, the Content
Security Policy nonce, cookies, the idle timeout, the login limit, error pages and password rules.

Most tests run with production's own values (the `production_settings` fixture, see conftest.py).
"""

import datetime
import os
import re
import secrets
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.template.loader import get_template
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error

from accounts.models import User
from portfolio.services.evidence import evidence_create
from tests.factories import EnrolmentFactory, UnitFactory, UserFactory
from tests.helpers import details

ROOT = django_settings.BASE_DIR
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
HOME = "/"


def run_with(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """This Python, in a clean environment plus `env` (no test settings, no server)."""
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    keep = {
        k: v
        for k, v in os.environ.items()
        if k not in dropped and not k.startswith(("SECURE_", "SESSION_", "S3_", "EVIDENCE_", "AXES_"))
    }
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env={**keep, **env}, capture_output=True, text=True, check=False
    )


def production_env(tmp_path, **extra: str) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "example.org",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path),
        **extra,
    }


def settings_values(tmp_path, expression: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_with({**production_env(tmp_path), **env}, "-c", f"import config.settings as s; print({expression})")


# --- The settings -------------------------------------------------------------------------------


def test_the_deployment_check_passes_under_production_settings(tmp_path):
    result = run_with(production_env(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_check_fails_with_debug_on(tmp_path):
    """The check does bite: it is not silenced wholesale."""
    env = production_env(tmp_path, DEBUG="1")
    result = run_with(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


HARDENED = (
    "s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
    "s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_AGE, s.SESSION_SAVE_EVERY_REQUEST, "
    "s.SECURE_REFERRER_POLICY, s.SECURE_CROSS_ORIGIN_OPENER_POLICY, s.X_FRAME_OPTIONS, s.AXES_FAILURE_LIMIT"
)


def test_production_gets_https_only_secure_cookies_and_a_30_minute_idle_timeout(tmp_path):
    result = settings_values(tmp_path, f"{HARDENED}, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        *["True", "True", "True", "31536000", "True", "True", "1800", "True"],
        *["same-origin", "same-origin", "DENY", "5", "True", "False"],
    ]


def test_make_run_debug_mode_keeps_plain_http_working(tmp_path):
    result = settings_values(tmp_path, HARDENED, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        *["False", "False", "False", "0", "True", "True", "1800", "True"],
        *["same-origin", "same-origin", "DENY", "5"],
    ]


def test_the_environment_tunes_the_hardening(tmp_path):
    result = settings_values(
        tmp_path,
        "s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD, "
        "s.SESSION_COOKIE_AGE, s.AXES_FAILURE_LIMIT",
        SECURE_SSL_REDIRECT="0",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_PRELOAD="1",
        SESSION_IDLE_MINUTES="10",
        AXES_FAILURE_LIMIT="3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ('HTTP_X_FORWARDED_PROTO', 'https') 600 True 600 3"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto", "SECURE_PROXY_SSL_HEADER must name a request header"),
        ("SESSION_IDLE_MINUTES", "0", "SESSION_IDLE_MINUTES must be at least 1"),
        ("SESSION_IDLE_MINUTES", "half an hour", "SESSION_IDLE_MINUTES must be a whole number"),
        ("AXES_FAILURE_LIMIT", "0", "AXES_FAILURE_LIMIT must be at least 1"),
        ("SECURE_SSL_REDIRECT", "maybe", "SECURE_SSL_REDIRECT must be one of"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, name, value, message):
    result = settings_values(tmp_path, "s.DEBUG", **{name: value})
    assert result.returncode != 0
    assert message in result.stderr


# --- Headers ------------------------------------------------------------------------------------


def nonce_of(response) -> str:
    policy = response["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    match = re.search(r"'nonce-([^']+)'", script_src)
    assert match, policy
    return match.group(1)


@pytest.fixture
def learner_client(production_settings, learner):
    client = Client()
    client.force_login(learner)
    return client


def test_pages_carry_the_content_security_policy_with_a_fresh_nonce(learner_client):
    first = learner_client.get(HOME, secure=True)
    second = learner_client.get(HOME, secure=True)
    assert first.status_code == second.status_code == 200

    directives = {d.split()[0]: d.split()[1:] for d in first["Content-Security-Policy"].split("; ")}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"][0] == "'self'"
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in directives.values() for value in values)

    assert nonce_of(first) != nonce_of(second)
    for response in (first, second):
        page_nonces = set(re.findall(r'<script[^>]* nonce="([^"]+)"', response.content.decode()))
        assert page_nonces == {nonce_of(response)}


def test_pages_carry_the_browser_security_headers(learner_client):
    response = learner_client.get(HOME, secure=True)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_plain_http_is_redirected_to_https(learner_client):
    response = learner_client.get("/caseload/?sort=name")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/caseload/?sort=name"
    assert "Strict-Transport-Security" not in response  # sent over HTTPS only


def test_behind_a_proxy_its_https_header_is_trusted_when_configured(learner_client, production_settings):
    production_settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = learner_client.get(HOME, headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert learner_client.get(HOME, headers={"X-Forwarded-Proto": "http"}).status_code == 301


# --- Cookies and the idle timeout ---------------------------------------------------------------


def test_login_sets_httponly_secure_cookies_that_last_the_idle_timeout(production_settings, learner):
    client = Client()
    form = client.get(reverse("login"), secure=True)
    csrf = form.cookies["csrftoken"]
    assert csrf["secure"]
    assert csrf["httponly"]

    response = client.post(reverse("login"), {"username": learner.username, "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert session["max-age"] == 30 * 60


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_every_request_pushes_the_idle_timeout_back(learner_client):
    learner_client.get(HOME, secure=True)
    Session.objects.filter(pk=session_row(learner_client).pk).update(
        expire_date=timezone.now() + datetime.timedelta(minutes=1)  # last used 29 minutes ago
    )

    response = learner_client.get(HOME, secure=True)

    assert response.status_code == 200
    remaining = session_row(learner_client).expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < remaining <= datetime.timedelta(minutes=30)


def test_a_session_idle_for_longer_than_the_limit_is_logged_out(learner_client):
    learner_client.get(HOME, secure=True)
    Session.objects.filter(pk=session_row(learner_client).pk).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)  # last used 30 minutes and 1 second ago
    )

    response = learner_client.get(HOME, secure=True)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Repeated failed logins ---------------------------------------------------------------------


def log_in(client: Client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, secure=True, REMOTE_ADDR=address)


def test_the_limit_th_failure_locks_the_username_from_that_address(production_settings, learner):
    client = Client()
    limit = production_settings.AXES_FAILURE_LIMIT
    assert limit == 5
    for _ in range(limit - 1):
        response = log_in(client, learner.username, "wrong password")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    response = log_in(client, learner.username, "wrong password")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed attempts to log in" in page
    assert "You can try again in 15 minutes." in page
    assert learner.username not in page
    assert "nonce-" in response["Content-Security-Policy"]


def lock_out(client: Client, username: str, limit: int) -> None:
    for _ in range(limit):
        response = log_in(client, username, "wrong password")
    assert response.status_code == 429


def test_a_locked_username_cannot_log_in_even_with_the_right_password(production_settings, learner):
    client = Client()
    lock_out(client, learner.username, production_settings.AXES_FAILURE_LIMIT)

    response = log_in(client, learner.username, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed attempts to log in" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(HOME, secure=True).status_code == 302


def test_after_the_cool_off_the_right_password_works_again(production_settings, learner):
    client = Client()
    lock_out(client, learner.username, production_settings.AXES_FAILURE_LIMIT)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=15, seconds=1))

    response = log_in(client, learner.username, PASSWORD)

    assert response.status_code == 302
    assert client.get(HOME, secure=True).status_code == 200


def test_the_lock_is_for_that_username_from_that_address_only(production_settings, learner, assessor):
    client = Client()
    lock_out(client, learner.username, production_settings.AXES_FAILURE_LIMIT)

    assert log_in(Client(), learner.username, PASSWORD, address="198.51.100.20").status_code == 302
    assert log_in(Client(), assessor.username, PASSWORD).status_code == 302


def test_an_unknown_username_is_locked_out_the_same_way(production_settings, learner):
    """The lockout says nothing about whether an account exists."""
    limit = production_settings.AXES_FAILURE_LIMIT
    known, unknown = Client(), Client()
    for _ in range(limit):
        known_response = log_in(known, learner.username, "wrong password")
        unknown_response = log_in(unknown, "nobody-by-this-name", "wrong password")

    assert known_response.status_code == unknown_response.status_code == 429

    def text(response) -> str:
        return re.sub(r'(nonce|value)="[^"]*"', "", response.content.decode())

    assert text(known_response) == text(unknown_response)


def test_a_successful_login_clears_earlier_failures(production_settings, learner):
    client = Client()
    limit = production_settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        log_in(client, learner.username, "wrong password")
    assert log_in(client, learner.username, PASSWORD).status_code == 302

    assert log_in(Client(), learner.username, "wrong password").status_code == 200


# --- Error pages --------------------------------------------------------------------------------


def test_an_unknown_address_gets_the_site_404_page_without_echoing_the_path(learner_client):
    response = learner_client.get("/no-such-page-xyzzy/", secure=True)
    assert response.status_code == 404
    page = response.content.decode()
    assert '<h1 class="h2">Page not found</h1>' in page
    assert 'aria-label="Main"' in page  # the site's own layout, with its navigation
    assert "xyzzy" not in page


@pytest.fixture
def someone_elses_evidence(db):
    learner = UserFactory(role=User.Role.LEARNER)
    enrolment = EnrolmentFactory(learner=learner, units=[UnitFactory()])
    return evidence_create(enrolment=enrolment, by=learner, details=details(title="Private notes"))


def test_another_persons_evidence_is_the_same_404_page(learner_client, someone_elses_evidence):
    response = learner_client.get(reverse("portfolio:evidence", args=[someone_elses_evidence.uuid]), secure=True)
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert "No such evidence" not in page  # the exception's text stays in the server
    assert "Private notes" not in page
    assert str(someone_elses_evidence.uuid) not in page


def test_a_role_gate_gets_the_site_403_page(learner_client):
    response = learner_client.get(reverse("assessments:sampling_plans"), secure=True)
    assert response.status_code == 403
    page = response.content.decode()
    assert "You cannot do that" in page
    assert 'aria-label="Main"' in page


@pytest.mark.urls("tests.security.urls")
def test_a_server_error_shows_the_static_500_page_and_no_traceback(production_settings):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", secure=True)
    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>Something went wrong</h1>" in page
    for leak in ("Traceback", "RuntimeError", "the secret detail", "boom", 'File "', "line "):
        assert leak not in page
    assert '<html lang="en-GB">' in page
    assert "<title>Something went wrong · NVQ Portfolio</title>" in page
    assert "<main>" in page
    assert '<a href="/">' in page


def test_the_500_page_needs_no_database_and_no_request_context():
    """No `db` fixture: any query would fail this test. Django renders 500.html with no context at all."""
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert get_template("500.html").render() == response.content.decode()


# --- Passwords ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_password", "complaint"),
    [("Tk9#x", "This password is too short"), ("password123", "This password is too common")],
)
def test_changing_a_password_refuses_a_short_or_common_one(learner_client, learner, new_password, complaint):
    response = learner_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
        secure=True,
    )
    assert response.status_code == 200
    assert complaint in response.content.decode()
    learner.refresh_from_db()
    assert learner.check_password(PASSWORD)


def test_the_password_validators_run_wherever_a_password_is_set(learner):
    with pytest.raises(ValidationError, match="too short"):
        validate_password("Tk9#x", user=learner)
    with pytest.raises(ValidationError, match="too common"):
        validate_password("password123", user=learner)
    with pytest.raises(ValidationError, match="entirely numeric"):
        validate_password("4815162342108", user=learner)
    validate_password("plum orchard at dusk", user=learner)
