"""Hostile query parameters and form fields on every URL, sent by someone allowed to use it.

For each URL in the permission table: the first person the policy lets in sends GETs with random
query strings and POSTs with the page's own form fields (read from its HTML) filled with hostile
values. Whatever arrives, the answer is a page, a redirect or a 4xx with words: never a 500.
"""

import os
import re

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_permissions import PRINCIPALS, URL_RULES, expected_status, url_for
from tests.test_permissions import world as world  # the fixture, shared

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning")]

# Per URL; FUZZ_REQUESTS=100 for a longer hunt.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_REQUESTS", "10"))
# Parameters the pages read, and a few they do not.
PARAMETERS = [
    "page", "queue", "sort", "learner", "unit", "q", "action", "person", "object", "since", "until",
    "from", "to", "stage", "format", "next", "status", "assessor", "method", "id", "uuid", "csv",
]  # fmt: skip
HOSTILE = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "1e309",
            "99999999999999999999999",
            "NaN",
            "2026-02-30",
            "9999-12-31",
            "0000-00-00",
            "../../etc/passwd",
            "' OR '1'='1",
            "<script>alert(1)</script>",
            "\x00",
            "a\x00b",
            "\u202e",
            "00000000-0000-0000-0000-000000000000",
            "%00",
            "%",
            "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
            "x" * 5000,
        ]
    ),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
_FIELD = re.compile(rb'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


def allowed_person(name: str, world):
    """The first principal the policy lets use `name` fully, or None if nobody in the world may."""
    rule = URL_RULES[name]
    for principal in PRINCIPALS[1:]:
        user = world["people"][principal]
        if expected_status(rule, user, world) == "ok":
            return user
    return None


_FORM = re.compile(rb"<form\b([^>]*)>(.*?)</form>", re.DOTALL)
_ACTION = re.compile(rb'\baction="([^"]*)"')
# Field names per (person, URL posted to), gathered once per test rather than once per example.
_fields: dict[tuple[int, str], list[str]] = {}


def fields_posting_to(client: Client, user, world, url: str) -> list[str]:
    """The names of the fields of every form, on any page this person can open, that posts to `url`
    (a form with no action posts to its own page)."""
    if (user.pk, url) not in _fields:
        names: set[str] = set()
        for name, rule in URL_RULES.items():
            page_url = url_for(name, world)
            if rule.method != "GET":
                continue
            response = client.get(page_url)
            if response.status_code != 200 or response.streaming:
                continue
            for attributes, body in _FORM.findall(response.content):
                action = _ACTION.search(attributes)
                if (action.group(1).decode() if action and action.group(1) else page_url) == url:
                    names |= {n.decode() for n in _FIELD.findall(body)}
        _fields[(user.pk, url)] = sorted(names - {"csrfmiddlewaretoken"})
    return _fields[(user.pk, url)]


@pytest.mark.parametrize("name", sorted(URL_RULES))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_parameters_never_cause_a_server_error(world, name, data):
    user = allowed_person(name, world)
    if user is None:
        pytest.skip(f"nobody in the test world may use {name}")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    url = url_for(name, world)
    query = data.draw(st.dictionaries(st.sampled_from(PARAMETERS) | st.text(max_size=10), HOSTILE, max_size=4))
    if URL_RULES[name].method == "GET":
        response = client.get(url, query)
        assert response.status_code < 500, f"GET {url} {query!r}: {response.status_code}"
    fields = fields_posting_to(client, user, world, url)
    if not fields:
        return
    form = data.draw(st.fixed_dictionaries({}, optional=dict.fromkeys(fields, HOSTILE)))
    response = client.post(url, form)
    assert response.status_code < 500, f"POST {url} {form!r}: {response.status_code}"
