"""Test settings: the real settings with a handful of overrides."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
# Playwright's sync API runs an event loop in the test thread; the ORM calls there are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from config.settings import *  # noqa: F403
from config.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="portfolio-test-media-"))
# Tasks run in-process in tests; tests/assessments/test_worker.py proves the broker path with a real worker.
CELERY_TASK_ALWAYS_EAGER = True

# The tests speak plain http: the test client by default, and the browser tests to the live server
# on http://localhost. Production's HTTPS-only settings would answer every request with a redirect
# to https:// (which nothing serves here) and make Chromium withhold the cookies. Production keeps
# them: tests/security/test_hardening.py turns them back on with config.settings' own values.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Saving the session on every request (the idle timeout) adds its UPDATE, and in a test its
# savepoint, to every pinned query count; tests/security turns it back on to test the timeout.
SESSION_SAVE_EVERY_REQUEST = False
# django-axes refuses Client.login() (it has no request to check) and counts every failed login;
# tests/security turns it on for the login-limit tests and for logins in the browser.
AXES_ENABLED = False
