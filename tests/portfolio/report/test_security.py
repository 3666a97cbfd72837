"""The renderer loads nothing but its own style sheet and this portfolio's thumbnails."""

import uuid
from pathlib import Path

import pytest
from weasyprint.urls import URLFetchingError, fetch

from portfolio.report.data import portfolio_report
from portfolio.report.fetcher import RefusedURL, ReportURLFetcher
from portfolio.report.images import ThumbnailStore
from tests.factories import EnrolmentFactory, UserFactory
from tests.helpers import PLAN
from tests.portfolio.report.builders import add_evidence, png_bytes
from tests.portfolio.report.conftest import render

HOSTILE_TITLE = 'Rota <img src="file:///etc/passwd"> review'
HOSTILE_ACCOUNT = (
    'See <img src="http://127.0.0.1:1/x"> and <link rel="stylesheet" href="http://127.0.0.1:1/s.css">'
    "<style>@import url(file:///etc/shadow);</style>"
)


def test_learner_text_is_escaped_and_never_fetched(enrolment, monkeypatch):
    add_evidence(
        enrolment,
        title=HOSTILE_TITLE,
        accounts={(PLAN, "1.1"): HOSTILE_ACCOUNT},
        files=[("chart.png", png_bytes())],
        location='<img src="file:///etc/hostname">',
    )
    fetched: list[str] = []
    real_fetch = ReportURLFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return real_fetch(self, url, headers)

    monkeypatch.setattr(ReportURLFetcher, "fetch", spy)
    html: list[str] = []

    rendered = render(enrolment, on_html=lambda _index, markup: html.append(markup))

    # Only our own resources were asked for: the style sheet and the portfolio's one thumbnail.
    assert fetched
    assert all(url.startswith(("static:", "evidence:")) for url in fetched), fetched
    markup = "".join(html)
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in markup
    assert "&lt;img src=&quot;http://127.0.0.1:1/x&quot;&gt;" in markup
    assert 'src="file:' not in markup
    assert 'src="http' not in markup
    assert "<link" not in markup
    assert "&lt;style&gt;@import url(file:///etc/shadow);&lt;/style&gt;" in markup
    assert "<style>" not in markup  # the templates have none; the learner's is escaped
    # The learner's words appear in the PDF as text, exactly as typed.
    assert HOSTILE_TITLE in rendered.text
    assert '<img src="http://127.0.0.1:1/x">' in rendered.text


@pytest.fixture
def thumbnails(enrolment, tmp_path) -> ThumbnailStore:
    add_evidence(enrolment, title="Chart", accounts={(PLAN, "1.1"): "A chart."}, files=[("c.png", png_bytes())])
    store = ThumbnailStore(tmp_path)
    for entry in portfolio_report(enrolment).files:
        store.ensure(entry)
    assert len(store.paths) == 1
    return store


@pytest.fixture
def other_portfolios_file(other_centre, specifications) -> uuid.UUID:
    learner = UserFactory(centre=other_centre)
    other = EnrolmentFactory(learner=learner)
    evidence = add_evidence(
        other,
        title="Someone else's photo",
        accounts={},
        files=[("theirs.png", png_bytes(colour="red"))],
        submit=False,
    )
    return evidence.current_version.files.get().uuid


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:1/x",
        "https://example.org/logo.png",
        "ftp://example.org/x",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "/etc/passwd",
        "static:../config/settings.py",
        "static:css/../../config/settings.py",
        "static:/etc/passwd",
        "static:",
        "static:css/missing.css",
        "STATIC:css/report.css",
        "evidence:not-a-uuid",
        "evidence:../../etc/passwd",
        f"evidence:{uuid.uuid4()}",
    ],
)
def test_the_fetcher_refuses_everything_else(thumbnails, url):
    fetcher = ReportURLFetcher(thumbnails.paths)
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)
    # WeasyPrint sees the refusal as a failed fetch, logs it and leaves the resource out.
    with pytest.raises(URLFetchingError), fetch(fetcher, url):
        pass


def test_the_fetcher_refuses_another_portfolios_file(thumbnails, other_portfolios_file):
    fetcher = ReportURLFetcher(thumbnails.paths)
    with pytest.raises(RefusedURL):
        fetcher.fetch(f"evidence:{other_portfolios_file}")
    own = next(iter(thumbnails.paths))
    with pytest.raises(RefusedURL):
        fetcher.fetch(f"evidence:{str(own).upper()}")  # only the canonical spelling


def test_the_fetcher_serves_static_files_and_this_portfolios_thumbnails(thumbnails):
    fetcher = ReportURLFetcher(thumbnails.paths)
    style = fetcher.fetch("static:css/report.css")
    assert style.content_type == "text/css"
    assert b"@page" in style.read()
    ((own, path),) = thumbnails.paths.items()
    with fetch(fetcher, f"evidence:{own}") as image:
        assert image.read() == Path(path).read_bytes()
        assert image.content_type == "image/jpeg"
