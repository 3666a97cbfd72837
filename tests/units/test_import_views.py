"""The import pages: upload or paste, review beside the source, publish, compare versions, move learners."""

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portfolio.filetypes import format_size
from portfolio.models import EnrolledUnit
from tests.helpers import MANAGE, enrol
from tests.units.test_import_services import fixture_data, imported, new_draft, reworded
from units.forms_import import DraftForm
from units.importer.fixtures import seeds_dir
from units.models import Unit, UnitDraft
from units.services_import import draft_create, draft_publish

pytestmark = pytest.mark.django_db

SEEDS = seeds_dir()
MANAGE_SEED = "001_20fa24159994ef5d.txt"


@pytest.fixture
def admin_client(client, specifications, centre_admin):
    client.force_login(centre_admin)
    return client


def form_data(draft: UnitDraft, **changes: object) -> dict[str, object]:
    """What the review page would post unchanged, with `changes` (field names) applied."""
    form = DraftForm(draft=draft)
    data: dict[str, object] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, type(form.fields["real_work_only"].widget)):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    data.update(changes)
    return {k: v for k, v in data.items() if v is not False}


def seed_upload(name: str = MANAGE_SEED) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (SEEDS / name).read_bytes(), content_type="text/plain")


# -- import ---------------------------------------------------------------------------------------


def test_uploading_a_seed_makes_a_draft_and_shows_it_beside_its_source(admin_client, centre_admin):
    response = admin_client.post(reverse("units:import"), {"file": seed_upload()})

    draft = UnitDraft.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("units:draft", args=[draft.uuid])
    assert (draft.key, draft.version, draft.source_name) == (MANAGE, 2, MANAGE_SEED)
    assert draft.created_by == centre_admin
    page = admin_client.get(response["Location"]).content.decode()
    assert 'id="L1"' in page
    assert "Unit Title:  Manage customer service operations" in page
    assert re.search(r'href="#L\d+"[^>]*>from line', page)
    assert "Explain the basis for allocating resources" in page
    assert "version 2</strong>" in page


def test_pasted_text_makes_a_draft(admin_client):
    text = (SEEDS / MANAGE_SEED).read_text(encoding="utf-8")
    response = admin_client.post(reverse("units:import"), {"text": text})
    assert response.status_code == 303
    draft = UnitDraft.objects.get()
    assert draft.source_name == "Pasted text"
    assert draft.data["title"] == "Manage customer service operations"


def test_an_empty_submission_says_what_to_do_and_stores_nothing(admin_client):
    response = admin_client.post(reverse("units:import"), {"text": "   "})
    assert response.status_code == 200
    assert "Choose a file to upload, or paste the text of the specification." in response.content.decode()
    assert not UnitDraft.objects.exists()


def test_a_file_over_the_limit_is_refused(admin_client, monkeypatch):
    monkeypatch.setattr("units.forms_import.IMPORT_MAX_FILE_SIZE", 1024)
    response = admin_client.post(reverse("units:import"), {"file": seed_upload()})
    assert response.status_code == 200
    size = format_size((SEEDS / MANAGE_SEED).stat().st_size)
    assert f"“{MANAGE_SEED}” is {size}: a specification file can be at most 1 KB." in response.content.decode()
    assert not UnitDraft.objects.exists()


def test_an_unreadable_file_shows_the_importers_reason_and_stores_nothing(admin_client):
    upload = SimpleUploadedFile("unit.pdf", b"%PDF-1.4 this is not really a PDF", content_type="application/pdf")
    response = admin_client.post(reverse("units:import"), {"file": upload})
    text = response.content.decode()
    assert response.status_code == 200
    assert "“unit.pdf” could not be read:" in text
    assert not UnitDraft.objects.exists()


def test_a_document_with_no_unit_in_it_is_refused(admin_client):
    response = admin_client.post(reverse("units:import"), {"text": "Minutes of the team meeting\n\nNothing else."})
    assert "No unit specification was found in the text" in response.content.decode()
    assert not UnitDraft.objects.exists()


# -- review ---------------------------------------------------------------------------------------


def test_a_corrected_criterion_is_saved(admin_client, centre_admin):
    draft = new_draft(centre_admin, fixture_data())
    url = reverse("units:draft", args=[draft.uuid])

    response = admin_client.post(url, form_data(draft, **{"outcomes-0-criteria-0-text": "Explain resource allocation"}))

    assert response.status_code == 303
    draft.refresh_from_db()
    assert draft.data["outcomes"][0]["criteria"][0]["text"] == "Explain resource allocation"
    assert draft.revision == 2
    assert "Your corrections are saved." in admin_client.get(url).content.decode()


def test_a_wrongly_read_criterion_is_removed_and_a_missing_one_added(admin_client, centre_admin):
    draft = new_draft(centre_admin, fixture_data())
    changes = {
        "outcomes-3-criteria-2-remove": "on",  # 4.3
        "outcomes-3-criteria-new-number": "4.3",
        "outcomes-3-criteria-new-text": "Review the service offer",
    }
    response = admin_client.post(reverse("units:draft", args=[draft.uuid]), form_data(draft, **changes))
    assert response.status_code == 303
    draft.refresh_from_db()
    criteria = draft.data["outcomes"][3]["criteria"]
    assert [(c["number"], c["text"]) for c in criteria][-1] == ("4.3", "Review the service offer")
    assert len(criteria) == 3


def test_a_bad_correction_is_shown_beside_its_field_and_nothing_is_saved(admin_client, centre_admin):
    draft = new_draft(centre_admin, fixture_data())
    changes = {"outcomes-1-criteria-0-text": "", "outcomes-1-criteria-1-number": "two"}
    response = admin_client.post(reverse("units:draft", args=[draft.uuid]), form_data(draft, **changes))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Your corrections were not saved" in page
    assert 'href="#id_outcomes-1-criteria-0-text">Criterion 2.1 text: Enter the text, or remove the entry.' in page
    assert "Write the number as outcome.criterion, for example 2.3." in page
    draft.refresh_from_db()
    assert draft.revision == 1


def test_a_save_from_a_stale_page_is_refused(admin_client, centre_admin):
    draft = new_draft(centre_admin, fixture_data())
    url = reverse("units:draft", args=[draft.uuid])
    stale = form_data(draft)
    admin_client.post(url, form_data(draft, title="Manage customer service"))
    response = admin_client.post(url, {**stale, "title": "Something else"})
    assert "Someone saved this draft after you opened it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.data["title"] == "Manage customer service"


# -- publish --------------------------------------------------------------------------------------


def test_publishing_asks_first_and_says_who_stays_on_the_old_version(admin_client, centre_admin, learner, assessor):
    enrol(learner, assessor=assessor)
    draft = new_draft(centre_admin)
    url = reverse("units:draft_publish", args=[draft.uuid])

    page = admin_client.get(url).content.decode()
    assert "This publishes <strong>version 2</strong>" in page
    assert "1 learner enrolled on version 1 stays on it until moved." in page
    assert "<li>1 assessment criterion changed</li>" in page

    response = admin_client.post(url, {"confirm": "publish", "version": "2"})

    unit = Unit.objects.get(key=MANAGE, version=2)
    assert response.status_code == 303
    assert response["Location"] == reverse("units:unit", args=[unit.uuid])
    old_page = admin_client.get(reverse("units:unit", args=[Unit.objects.get(key=MANAGE, version=1).uuid]))
    assert "A newer version of this unit is published" in old_page.content.decode()
    record = admin_client.get(reverse("units:draft", args=[draft.uuid])).content.decode()
    assert "imported and published" in record


def test_a_post_without_the_confirmation_publishes_nothing(admin_client, centre_admin):
    draft = new_draft(centre_admin)
    response = admin_client.post(reverse("units:draft_publish", args=[draft.uuid]), {})
    assert response.status_code == 303
    assert not Unit.objects.filter(version=2).exists()


def test_identical_content_is_not_offered_for_publishing(admin_client, centre_admin):
    draft = new_draft(centre_admin, fixture_data())
    page = admin_client.get(reverse("units:draft_publish", args=[draft.uuid])).content.decode()
    assert "Identical to version 1: nothing to publish" in page
    assert "Publish version" not in page


def test_an_incomplete_draft_says_what_is_missing(admin_client, centre_admin):
    data = fixture_data()
    data["credit_value"] = None
    draft = new_draft(centre_admin, data)
    page = admin_client.get(reverse("units:draft_publish", args=[draft.uuid])).content.decode()
    assert "It cannot be published yet" in page
    assert "Credit value: Not given: enter it from the document." in page
    review = admin_client.get(reverse("units:draft", args=[draft.uuid])).content.decode()
    assert 'href="#id_credit_value">Credit value: Not given' in review


# -- versions and moving learners -----------------------------------------------------------------


def test_the_changes_page_lists_criterion_changes_in_words(client, learner, centre_admin, specifications):
    v2 = draft_publish(draft=new_draft(centre_admin), by=centre_admin)
    client.force_login(learner)
    page = client.get(reverse("units:changes", args=[v2.uuid])).content.decode()
    assert "Assessment criteria: 0 added, 0 removed, 1 changed, 27 unchanged." in page
    assert ">Changed<" in page
    assert "Explain the basis for allocating resources" in page  # the old wording
    assert "Explain how resources are allocated" in page  # the new
    assert "Learners at your centre" not in page  # not for learners


def test_a_centre_admin_moves_a_learner_with_nothing_recorded(admin_client, centre_admin, learner, assessor):
    enrolment = enrol(learner, assessor=assessor)
    v1 = Unit.objects.get(key=MANAGE, version=1)
    v2 = draft_publish(draft=new_draft(centre_admin), by=centre_admin)
    page = admin_client.get(reverse("units:changes", args=[v2.uuid])).content.decode()
    assert f"Move {learner.get_full_name()} to version 2" in page

    response = admin_client.post(reverse("units:enrolled_unit_move", args=[enrolment.uuid, v1.uuid]))

    assert response.status_code == 303
    assert EnrolledUnit.objects.get(enrolment=enrolment, unit__key=MANAGE).unit == v2


def test_the_catalogue_lists_drafts_only_for_those_who_manage_specifications(
    client, centre_admin, learner, specifications
):
    draft = new_draft(centre_admin)
    client.force_login(centre_admin)
    assert reverse("units:draft", args=[draft.uuid]) in client.get(reverse("units:catalogue")).content.decode()
    client.force_login(learner)
    page = client.get(reverse("units:catalogue")).content.decode()
    assert reverse("units:draft", args=[draft.uuid]) not in page
    assert "Import a unit" not in page


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("units:draft", 1),
        ("units:draft_publish", 1),
        ("units:changes", 1),
    ],
)
def test_unknown_ids_are_not_found(admin_client, name, args):
    assert admin_client.get(reverse(name, args=[uuid.uuid4()] * args)).status_code == 404


def test_moving_on_an_unknown_portfolio_or_unit_is_not_found(admin_client, learner, assessor):
    enrolment = enrol(learner, assessor=assessor)
    url = reverse("units:enrolled_unit_move", args=[uuid.uuid4(), uuid.uuid4()])
    assert admin_client.post(url).status_code == 404
    url = reverse("units:enrolled_unit_move", args=[enrolment.uuid, uuid.uuid4()])
    assert admin_client.post(url).status_code == 404


@pytest.mark.parametrize("persona", ["learner", "assessor", "iqa", "eqa"])
def test_only_centre_admins_import(client, specifications, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("units:import")).status_code == 403
    assert client.post(reverse("units:import"), {"text": "Unit Title: x"}).status_code == 403
    assert not UnitDraft.objects.exists()


def test_the_review_page_takes_a_fixed_number_of_queries(admin_client, centre_admin, django_assert_num_queries):
    draft = new_draft(centre_admin, reworded(fixture_data()))
    # session, user, draft, latest version of the key
    with django_assert_num_queries(4):
        assert admin_client.get(reverse("units:draft", args=[draft.uuid])).status_code == 200


def test_line_breaks_sent_by_a_browser_do_not_count_as_a_change(admin_client, centre_admin):
    draft = new_draft(centre_admin, fixture_data())
    data = form_data(draft)
    data["nos_statement"] = str(data["nos_statement"]).replace("\n", "\r\n")
    admin_client.post(reverse("units:draft", args=[draft.uuid]), data)
    draft.refresh_from_db()
    assert draft.revision == 2
    assert "\r" not in draft.data["nos_statement"]
    page = admin_client.get(reverse("units:draft_publish", args=[draft.uuid])).content.decode()
    assert "Identical to version 1: nothing to publish" in page


def test_the_importers_errors_link_to_their_lines_and_hold_publishing_until_reviewed(admin_client, centre_admin):
    result = imported(reworded(fixture_data()), errors=["Line 2: a second criterion 1.1 was read"])
    draft = draft_create(result=result, source_name="manage.txt", by=centre_admin)
    review = admin_client.get(reverse("units:draft", args=[draft.uuid])).content.decode()
    assert '<a class="alert-link" href="#L2">Line 2: a second criterion 1.1 was read</a>' in review
    assert '<a class="alert-link" href="#L3">Line 3: not placed: “Page 2 of 7”</a>' in review  # a warning
    page = admin_client.get(reverse("units:draft_publish", args=[draft.uuid])).content.decode()
    assert "The importer reported errors that no one has reviewed yet" in page
    assert "Publish version" not in page

    admin_client.post(reverse("units:draft", args=[draft.uuid]), form_data(draft))

    page = admin_client.get(reverse("units:draft_publish", args=[draft.uuid])).content.decode()
    assert "Publish version 2" in page
