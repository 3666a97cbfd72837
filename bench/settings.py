"""Settings for the benchmarks: the real settings, plus a bench-only URL configuration.

The floor page (an authenticated page rendering the base layout with no queries of its own) must be
served by the same server as the pages measured against it, but never by production: it lives in
`bench.urls`, which only this module points at.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The benchmarks serve plain http on loopback (gunicorn, the test client): production's redirect to
# https:// and its Secure-only cookies would stop every request after the login.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
