"""`manage.py export_portfolio`: the same renderer, chosen by learner (and qualification when ambiguous)."""

import io

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from portfolio.management.commands import export_portfolio
from portfolio.report.render import RenderResult
from tests.factories import EnrolmentFactory, QualificationFactory


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_portfolio", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_exports_the_learners_portfolio(enrolment, tmp_path):
    target = tmp_path / "portfolio.pdf"
    out = run("--learner", "lena", "-o", str(target))
    reader = PdfReader(target)
    cover = reader.pages[0].extract_text()
    assert "Exported by the command line" in " ".join(cover.split())
    assert f"{len(reader.pages)} pages" in out
    assert list(tmp_path.iterdir()) == [target]


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    """The command's calls to the renderer, which here writes a stand-in PDF."""
    made: list[dict] = []

    def fake(enrolment, **kwargs):
        made.append({"enrolment": enrolment, **kwargs})
        kwargs["output"].write(b"%PDF-stand-in")
        return RenderResult(page_count=1, size=13, sha256="0" * 64)

    monkeypatch.setattr(export_portfolio, "render_portfolio_pdf", fake)
    return made


def test_options_reach_the_renderer(enrolment, calls, tmp_path):
    run("--learner", "lena", "-o", str(tmp_path / "p.pdf"), "--include-originals")
    (call,) = calls
    assert call["enrolment"] == enrolment
    assert call["exported_by"] is None
    assert call["include_originals"] is True
    assert (tmp_path / "p.pdf").read_bytes() == b"%PDF-stand-in"


def test_a_learner_with_several_enrolments_must_choose(enrolment, learner, calls, tmp_path):
    other = EnrolmentFactory(learner=learner, qualification=QualificationFactory(key="customer-service-l3"))
    with pytest.raises(CommandError, match=r"lena has 2 enrolments; choose one with --qualification") as refused:
        run("--learner", "lena", "-o", str(tmp_path / "p.pdf"))
    assert "customer-service-l3" in str(refused.value)
    assert str(enrolment.uuid) in str(refused.value)

    run("--learner", "lena", "-o", str(tmp_path / "p.pdf"), "--qualification", "customer-service-l3")
    run("--learner", "lena", "-o", str(tmp_path / "p.pdf"), "--qualification", str(enrolment.uuid))
    assert [c["enrolment"] for c in calls] == [other, enrolment]

    with pytest.raises(CommandError, match="lena has no enrolment on “nothing-like-it”"):
        run("--learner", "lena", "-o", str(tmp_path / "p.pdf"), "--qualification", "nothing-like-it")


@pytest.mark.parametrize(
    ("username", "message"),
    [("nobody", "There is no user with the username “nobody”."), ("lena", "lena has no enrolment")],
)
def test_clear_errors_for_unknown_learners_and_missing_portfolios(learner, tmp_path, username, message):
    with pytest.raises(CommandError, match=message):
        run("--learner", username, "-o", str(tmp_path / "p.pdf"))


def test_a_failed_export_leaves_no_file(enrolment, monkeypatch, tmp_path):
    def broken(enrolment, **kwargs):
        kwargs["output"].write(b"%PDF-half")
        raise RuntimeError("storage went away")

    monkeypatch.setattr(export_portfolio, "render_portfolio_pdf", broken)
    with pytest.raises(RuntimeError):
        run("--learner", "lena", "-o", str(tmp_path / "p.pdf"))
    assert list(tmp_path.iterdir()) == []


def test_the_output_folder_must_exist(enrolment, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        run("--learner", "lena", "-o", str(tmp_path / "missing" / "p.pdf"))
