"""The page benchmark at the tiny scale, in-process on the test database, so it cannot rot.

Timings on a shared machine say nothing in a test: only the shape of the figures is checked, and
what does not depend on the machine's speed: every page answers, and no page's query count grows
when its lists do (three learners against six, with the same shape of portfolio each).
"""

import pytest

from bench import dataset, pages

pytestmark = pytest.mark.django_db

PAGES = [
    "floor",
    "learner_home",
    "tracking_grid",
    "evidence_detail",
    "caseload",
    "queue",
    "assess",
    "iqa_coverage",
    "audit_trail",
    "unit",
]


@pytest.fixture(autouse=True)
def bench_urls(settings):
    """The site's URLs plus the floor page, as the benchmark's own settings serve them."""
    settings.ROOT_URLCONF = "bench.urls"


@pytest.fixture
def three():
    return dataset.build("tiny")


@pytest.fixture
def six(three):
    return dataset.build("tiny", learners=6)


def by_key(figures: dict) -> dict[str, dict]:
    return {page["key"]: page for page in figures["pages"]}


def test_the_tiny_dataset_names_everything_the_pages_open(three):
    assert three.shape["learners"] == 3
    assert three.counts["portfolio.Evidence"] == 3 * dataset.SCALES["tiny"].items_per_learner
    assert three.counts["assessments.Decision"] > 0
    assert three.counts["portfolio.AuditEvent"] > 0
    assert three.caseload == 3
    assert three.evidence != three.awaiting_evidence
    assert all([three.learner, three.assessor, three.iqa, three.centre_admin, three.eqa, three.sampling_plan])
    assert dataset.Dataset.from_json(three.to_json()) == three


def test_every_page_is_timed_against_the_floor_and_queries_do_not_grow(three, six):
    small = pages.measure(three, repeat=2, warmup=1)
    larger = pages.measure(six, repeat=2, warmup=1)

    for figures in (small, larger):
        assert list(by_key(figures)) == PAGES
        assert figures["floor_median_ms"] > 0
        for page in figures["pages"]:
            assert 0 < page["min_ms"] <= page["median_ms"] <= page["p95_ms"], page["key"]
            assert page["ratio"] == pytest.approx(page["median_ms"] / figures["floor_median_ms"], rel=0.01)
            assert page["bytes"] > 0
            assert page["queries"] >= by_key(figures)["floor"]["queries"]
    queries = {key: page["queries"] for key, page in by_key(small).items()}
    assert queries == {key: page["queries"] for key, page in by_key(larger).items()}

    combined = pages.combine({"small": small, "large": larger})
    assert [row["key"] for row in combined["pages"]] == PAGES
    for row in combined["pages"][1:]:
        assert set(row["goals"]) == {"within_3x_floor", "large_small_within_1_5", "queries_equal"}
        assert row["goals"]["queries_equal"]
    text = pages.markdown(combined)
    assert text.startswith("## Pages: server time per request")
    for row in combined["pages"]:
        assert row["label"] in text
