"""Nothing of one learner's reaches anyone the policy does not let see it: every URL, both methods.

Three learners carry a unique marker in their evidence's words, their file's name and their file's
bytes: the owner (the portfolio the permission table is about), a classmate at the same centre with
another assessor, and an outsider at another centre. Every principal, staff included, sends GET and
POST to every URL of the permission table; a marker found anywhere in a body or header must belong
to a learner whose portfolio the policy lets that principal see. A principal the policy refuses gets
a refusal on either method: never a page, never a redirect anywhere but the login page.
The admin is walked too: staff only.
"""

import io
import uuid

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import User
from accounts.policy import Action, allows
from portfolio.models import Enrolment, ExportJob
from portfolio.services.evidence import evidence_create
from portfolio.services.exports import export_request
from portfolio.services.files import file_attach
from tests.factories import UserFactory
from tests.helpers import details, enrol
from tests.test_permissions import PRINCIPALS, URL_RULES, classify, expected_status, url_for
from tests.test_permissions import world as world  # the fixture, shared

pytestmark = pytest.mark.django_db

DENIALS = {"login", "missing", "forbidden", "error 405"}


def marker() -> str:
    return f"zq{uuid.uuid4().hex[:12]}"


def carry(enrolment: Enrolment, learner: User, mark: str) -> None:
    """Evidence whose words, file name and file bytes all say `mark`."""
    evidence = evidence_create(
        enrolment=enrolment, by=learner, details=details(title=f"Notes {mark}", description=f"About {mark}")
    )
    upload = SimpleUploadedFile(f"{mark}.txt", f"Minutes of the meeting. {mark}\n".encode(), "text/plain")
    file_attach(version=evidence.current_version, upload=upload, by=learner)


@pytest.fixture
def marked(world, other_centre, staff):
    people = world["people"]
    world["people"]["staff"] = staff
    classmate = enrol(people["classmate"], assessor=people["other_assessor"])
    outsider_assessor = UserFactory(role=User.Role.ASSESSOR, centre=other_centre)
    outsider = enrol(people["outsider"], assessor=outsider_assessor)
    marks = {world["enrolment"]: marker(), classmate: marker(), outsider: marker()}
    for enrolment, mark in marks.items():
        carry(enrolment, enrolment.learner, mark)
    world["marks"] = marks
    return world


def content_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def body_of(response) -> bytes:
    """Headers and content: a marker may leak through either."""
    headers = "\n".join(f"{k}: {v}" for k, v in response.items()).encode()
    return headers + b"\n" + content_of(response)


def leaks(user: User, text: bytes, marks: dict[Enrolment, str]) -> list[str]:
    return [
        f"{e.learner.username}'s marker"
        for e, mark in marks.items()
        if mark.encode() in text and not allows(user, Action.VIEW_PORTFOLIO, e)
    ]


@pytest.mark.parametrize("principal", [*PRINCIPALS, "staff"])
def test_no_marker_reaches_anyone_the_policy_does_not_allow(marked, principal):
    user = None if principal == "anonymous" else marked["people"][principal]
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    checked = 0
    for name in sorted(URL_RULES):
        rule = URL_RULES[name]
        expected = expected_status(rule, user, marked)
        url = url_for(name, marked)
        for method in ("GET", "POST"):
            response = client.post(url, {}) if method == "POST" else client.get(url)
            got = classify(response.status_code, response.get("Location", ""))
            assert response.status_code < 500, f"{principal} {method} {name}: {response.status_code}"
            if expected != "ok":
                assert got in DENIALS, f"{principal} {method} {name}: refused by the policy, got {got}"
            if user is not None:
                found = leaks(user, body_of(response), marked["marks"])
                assert not found, f"{principal} {method} {name} shows {found}"
            checked += 1
    assert checked == 2 * len(URL_RULES)


def test_the_markers_are_where_they_should_be(client, marked):
    """The check above can only pass honestly if the owner's own pages do show the owner's marker."""
    owner = marked["people"]["owner"]
    client.force_login(owner)
    mark = marked["marks"][marked["enrolment"]]
    page = client.get(reverse("portfolio:portfolio", args=[marked["enrolment"].uuid]))
    assert mark.encode() in page.content


def test_the_exported_pdf_holds_only_its_own_learner(client, marked, django_capture_on_commit_callbacks):
    """A real render (tasks run eagerly in tests): the owner's marker is in the PDF, no one else's."""
    enrolment = marked["enrolment"]
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(enrolment=enrolment, by=marked["people"]["eqa"])
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE, job.error
    client.force_login(marked["people"]["eqa"])
    response = client.get(reverse("portfolio:export_download", args=[job.uuid]))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content_of(response))).pages)
    text = " ".join(text.split())
    assert marked["marks"][enrolment] in text
    for other, mark in marked["marks"].items():
        if other != enrolment:
            assert mark not in text


def admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls += [
            reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
            reverse(f"admin:{meta.app_label}_{meta.model_name}_add"),
        ]
    return urls


@pytest.mark.parametrize("principal", [*PRINCIPALS, "staff"])
def test_the_admin_is_for_staff_only(marked, principal):
    user = None if principal == "anonymous" else marked["people"][principal]
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    for url in admin_urls():
        for method in ("GET", "POST"):
            response = client.post(url, {}) if method == "POST" else client.get(url)
            assert response.status_code < 500, f"{principal} {method} {url}: {response.status_code}"
            if principal == "staff":
                continue
            # Django sends everyone else to the admin's own login page, whatever the method.
            assert response.status_code == 302, f"{principal} {method} {url}: {response.status_code}"
            assert reverse("admin:login") in response["Location"]
