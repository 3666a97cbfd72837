"""The rendered PDF, read back with pypdf: what an EQA will open."""

import hashlib
import re

from pypdf.generic import DictionaryObject

from assessments.selectors import SignOffStatus
from portfolio.models import StoredFile
from portfolio.report.images import THUMBNAIL_MAX
from tests.helpers import MANAGE, PLAN
from tests.portfolio.report.conftest import FEEDBACK, IQA_COMMENTS, PHOTO_SIZE, render
from units.models import AssessmentCriterion, Unit

PLAN_TITLE = "Plan, organise and control customer service operations"
MANAGE_TITLE = "Manage customer service operations"
LISTED = ("Evidence", "Internal quality assurance", "File manifest")


def criterion_numbers(unit_key: str) -> list[str]:
    criteria = AssessmentCriterion.objects.filter(outcome__unit__key=unit_key)
    return list(criteria.order_by("outcome__number", "ordinal").values_list("number", flat=True))


def images(resources: DictionaryObject) -> list[DictionaryObject]:
    """Image XObjects in a resource dictionary, looking inside form XObjects too."""
    found = []
    for ref in (resources.get("/XObject") or {}).values():
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Image":
            found.append(xobject)
        elif xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
            found += images(xobject["/Resources"].get_object())
    return found


def test_the_report_holds_the_whole_record(portfolio, assessor):
    rendered = render(portfolio.enrolment, exported_by=assessor)
    text = rendered.text
    learner = portfolio.enrolment.learner

    # The cover.
    assert f"Portfolio of {learner.get_full_name()}" in rendered.pages[0]
    assert f"Exported by {assessor.get_full_name()} (Assessor)" in rendered.pages[0]
    assert "Start date 1 Sep 2026" in rendered.pages[0]
    assert "Planned end date 31 Aug 2027" in rendered.pages[0]
    # Decisions, feedback, the learner's accounts, IQA, the manifest.
    assert FEEDBACK in text
    assert "I set the staffing levels for each week." in text
    assert "password confirmed" in text
    assert IQA_COMMENTS in text
    for name in portfolio.files:
        stored = StoredFile.objects.get(enrolment=portfolio.enrolment, original_name=name)
        assert f"SHA-256 {stored.sha256}" in text
    # The unit signed off shows its sign-off and countersignature.
    assert SignOffStatus.COUNTERSIGNED.label in text

    result = rendered.result
    assert result.page_count == len(rendered.reader.pages)
    assert result.size == len(rendered.data)
    assert result.sha256 == hashlib.sha256(rendered.data).hexdigest()
    assert not rendered.reader.attachments
    assert rendered.reader.page_mode == "/UseOutlines"


def test_every_criterion_of_each_unit_is_in_its_section(portfolio):
    rendered = render(portfolio.enrolment)
    starts = {title: page for title, page, _ in rendered.bookmarks()}
    manage, plan = starts[f"Unit 1: {MANAGE_TITLE}"], starts[f"Unit 2: {PLAN_TITLE}"]
    sections = {
        MANAGE: " ".join(rendered.pages[manage - 1 : plan - 1]),
        PLAN: " ".join(rendered.pages[plan - 1 : starts["Evidence"] - 1]),
    }
    for unit_key, section in sections.items():
        numbers = criterion_numbers(unit_key)
        assert len(numbers) in (27, 28)
        for number in numbers:
            assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", section), f"{unit_key} {number}"
    # Gaps: the Plan unit's 1.2 (not yet met) and 2.1 (a draft) are listed, 1.1 (met) is not.
    gaps = sections[PLAN].split("Gaps", 1)[1].split("Evidence requirements", 1)[0]
    assert "1.2 " in gaps
    assert "2.1 " in gaps
    assert "1.1 " not in gaps
    assert "Not yet met" in gaps
    assert "Claimed in a draft" in gaps


def test_bookmarks_contents_and_page_numbers_agree(portfolio):
    rendered = render(portfolio.enrolment)
    bookmarks = rendered.bookmarks()
    titles = [title for title, _, _ in bookmarks]
    assert f"Unit 1: {MANAGE_TITLE}" in titles
    assert f"Unit 2: {PLAN_TITLE}" in titles
    assert {"Cover", "Contents", "Evidence", "Internal quality assurance", "File manifest"} <= set(titles)
    assert ("E1 · Whiteboard plan for the peak season", 1) in [(t, d) for t, _, d in bookmarks]

    # Every page says its own number, counting on across the separately laid-out sections.
    for number, page in enumerate(rendered.pages, start=1):
        assert f"Page {number}" in page, number

    # The contents list each section at the page its bookmark points to.
    first_unit = {t: p for t, p, _ in bookmarks}[f"Unit 1: {MANAGE_TITLE}"]
    contents = " ".join(rendered.pages[1 : first_unit - 1])
    checked = 0
    for title, page, _ in bookmarks:
        if not (re.match(r"Unit \d+: |E\d+ · ", title) or title in LISTED):
            continue
        match = re.search(rf"{re.escape(title)} (\d+)", contents)
        assert match, title
        assert int(match.group(1)) == page, title
        checked += 1
    assert checked >= 2 + 1 + 3 + 2  # units, Evidence, three items, IQA and manifest


def test_images_are_embedded_as_scaled_down_thumbnails(portfolio):
    rendered = render(portfolio.enrolment)
    embedded = [image for page in rendered.reader.pages for image in images(page["/Resources"].get_object())]
    sizes = {(int(i["/Width"]), int(i["/Height"])) for i in embedded}
    assert max(width for width, _ in sizes) <= THUMBNAIL_MAX
    assert PHOTO_SIZE not in sizes
    assert (THUMBNAIL_MAX, THUMBNAIL_MAX * PHOTO_SIZE[1] // PHOTO_SIZE[0]) in sizes  # the photo, scaled
    assert (64, 48) in sizes  # the small PNG, as it was
    assert len(rendered.data) < len(portfolio.files["whiteboard.jpg"])


def test_progress_moves_section_by_section(portfolio):
    rendered = render(portfolio.enrolment)
    percents = [percent for percent, _ in rendered.progress]
    stages = [stage for _, stage in rendered.progress]
    assert percents == sorted(percents)
    assert percents[0] == 0
    assert percents[-1] == 100
    assert f"Rendering unit 1 of 2: {MANAGE_TITLE}" in stages
    assert f"Rendering unit 2 of 2: {PLAN_TITLE}" in stages
    assert "Rendering evidence 1 to 3 of 3" in stages
    assert {"Rendering IQA records", "Rendering the file manifest"} <= set(stages)
    # The job's heartbeat goes on while the sections are joined, and while originals are copied.
    assert f"Joining the sections: page 1 of {rendered.result.page_count}" in stages
    sections = stages.index("Rendering the file manifest") - stages.index(f"Rendering unit 1 of 2: {MANAGE_TITLE}")
    body_percents = percents[stages.index(f"Rendering unit 1 of 2: {MANAGE_TITLE}") :][: sections + 1]
    assert len(set(body_percents)) == len(body_percents)  # each section moves the bar


def test_originals_can_be_embedded_as_attachments(portfolio):
    rendered = render(portfolio.enrolment, include_originals=True)
    attachments = rendered.reader.attachments
    by_name = {name.split("-", 1)[1]: contents for name, contents in attachments.items()}
    assert set(by_name) == set(portfolio.files)
    for name, original in portfolio.files.items():
        assert by_name[name] == [original]
    assert all(re.fullmatch(r"F\d+-.+", name) for name in attachments)
    assert "Embedded in this PDF as attachments (3 files)" in rendered.pages[0]
    embedding = [stage for _, stage in rendered.progress if stage.startswith("Embedding original file")]
    assert len(embedding) == 3
    assert embedding[0].startswith("Embedding original file 1 of 3: ")


def test_a_portfolio_with_nothing_in_it_still_renders(enrolment):
    rendered = render(enrolment)
    assert "No evidence has been added to this portfolio." in rendered.text
    assert "No IQA sampling recorded." in rendered.text
    assert "No files." in rendered.text
    assert "Exported by the command line (no signed-in user)" in rendered.pages[0]
    for number, page in enumerate(rendered.pages, start=1):
        assert f"Page {number}" in page
    assert Unit.objects.count() == 2
