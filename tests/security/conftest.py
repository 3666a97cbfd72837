"""Production's settings for the security tests.

tests/settings.py turns off what plain-http tests cannot use (the HTTPS redirect, Secure cookies),
the per-request session save and django-axes. `production_settings` puts back the values
config.settings gives production (DEBUG off), so the tests here check what production gets.
"""

import pytest

import config.settings as production

RESTORED = ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_SAVE_EVERY_REQUEST")


@pytest.fixture
def production_settings(settings):
    assert not production.DEBUG, "the security tests need DEBUG off, as in production"
    for name in RESTORED:
        setattr(settings, name, getattr(production, name))
    settings.AXES_ENABLED = True
    return settings
