"""Deployment settings: Django's deployment checks pass in production, a production process
refuses to start without a secret key, logins are throttled, the content security policy
allows only the site itself, and sessions end after a period of inactivity."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
A_REAL_SECRET_KEY = "k3V9-q2Lr8xWz0pTn6sYb4HcJ1fGm7dQa5uEi-oR8vXl2NyPw9ZtBs3KjU6hCgMe0"


def manage(*args, **env_changes):
    """Run manage.py in a fresh process with the test's environment changed."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "DEBUG", "COMPAPP_ENV", "ALLOWED_HOSTS",
                        "SECURE_COOKIES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )


def test_the_deployment_checks_pass_with_the_production_settings():
    assert len(A_REAL_SECRET_KEY) >= 50
    done = manage("check", "--deploy", "--fail-level", "WARNING", COMPAPP_ENV="production",
                  SECRET_KEY=A_REAL_SECRET_KEY, ALLOWED_HOSTS="example.com")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_deployment_checks_fail_with_a_weak_secret_key():
    """The check above is not vacuous: a short key is reported."""
    done = manage("check", "--deploy", "--fail-level", "WARNING", COMPAPP_ENV="production",
                  SECRET_KEY="too-short", ALLOWED_HOSTS="example.com")
    assert done.returncode != 0
    assert "security.W009" in done.stdout + done.stderr


def test_production_turns_on_secure_cookies_hsts_and_ssl_redirect():
    script = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    )
    done = manage("shell", "-c", script, COMPAPP_ENV="production",
                  SECRET_KEY=A_REAL_SECRET_KEY, ALLOWED_HOSTS="example.com")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-6:] == ["False", "True", "True", "True", "True", "True"]


def test_production_refuses_to_start_without_a_secret_key():
    done = manage("check", COMPAPP_ENV="production", ALLOWED_HOSTS="example.com")
    assert done.returncode != 0
    assert "SECRET_KEY must be set when COMPAPP_ENV=production" in done.stderr


# --- login throttling ---------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True)
def test_five_wrong_passwords_lock_the_login_even_for_the_right_password(client, users):
    login = reverse("login")
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(login, {"username": "alice@example.com", "password": "wrong"})
        # The form again with its error; the attempt reaching the limit is told it is locked.
        assert response.status_code == (429 if attempt == settings.AXES_FAILURE_LIMIT else 200)
        assert not response.wsgi_request.user.is_authenticated
    response = client.post(login, {"username": "alice@example.com",
                                   "password": "pw-for-tests-1"})
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated
    assert client.get(reverse("home")).status_code == 302  # still not signed in
    # Someone else signing in from the same address is not locked out.
    response = client.post(login, {"username": "bob@example.com", "password": "pw-for-tests-1"})
    assert response.status_code == 302 and response["Location"] == reverse("home")


@pytest.mark.django_db
@override_settings(AXES_ENABLED=True)
def test_a_right_password_before_the_limit_signs_in(client, users):
    login = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(login, {"username": "alice@example.com", "password": "wrong"})
    response = client.post(login, {"username": "alice@example.com",
                                   "password": "pw-for-tests-1"})
    assert response.status_code == 302


# --- content security policy --------------------------------------------------------------


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("who", [None, "alice", "fiona"])
def test_the_content_security_policy_allows_only_the_site_itself(client_for, client, who):
    # Finance lands on its queue: follow the landing to the page itself.
    response = (client_for(who) if who else client).get(reverse("home" if who else "login"),
                                                        follow=True)
    assert response.status_code == 200
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    for name, sources in directives.items():
        # No other host, no inline code, no eval: only the site, nothing, or inline images.
        assert set(sources) <= {"'self'", "'none'", "data:"}, (name, sources)
        if "data:" in sources:
            assert name == "img-src", name


# --- sessions -----------------------------------------------------------------------------


def test_sessions_last_eight_hours_unless_configured():
    expected = int(os.environ.get("SESSION_COOKIE_AGE") or 8 * 3600)
    assert settings.SESSION_COOKIE_AGE == expected
    assert not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def _session(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


@pytest.mark.django_db
def test_activity_renews_the_session_and_inactivity_ends_it(client_for):
    client = client_for("alice")
    age = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    # Almost the whole allowance has passed without a request: ten seconds are left.
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() + datetime.timedelta(seconds=10))
    assert client.get(reverse("home")).status_code == 200
    # Sliding: the request counted as activity, the session runs a full period again.
    renewed = _session(client).expire_date
    assert renewed >= timezone.now() + age - datetime.timedelta(minutes=1)

    # Then the full period passes without a request: the session is over.
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
