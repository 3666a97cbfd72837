"""The load and upload benchmarks in their quick modes: they run end to end and report every figure.

Timings on a shared machine say nothing in a test, so only the shape of the results is checked,
plus what does not depend on the machine's speed: no errors, and the upload's memory bound.
"""

import os

import pytest

from bench import load, uploads

pytestmark = pytest.mark.slow


def test_uploads_quick_mode_measures_a_real_upload_against_a_plain_copy():
    result = uploads.run(quick=True)

    assert result["file_bytes"] == uploads.QUICK_SIZE
    upload, copy = result["upload"], result["copy"]
    assert upload["wall_s"] > 0
    assert upload["mb_per_s"] > 0
    assert len(upload["runs_s"]) == result["setup"]["repeats"] == 1
    assert 0 < upload["rss_before_mb"] <= upload["rss_peak_mb"]
    assert upload["rss_growth_mb"] == pytest.approx(upload["rss_peak_mb"] - upload["rss_before_mb"], abs=0.2)
    assert upload["rss_samples"] >= 0
    assert len(copy["runs_s"]) == 2
    assert copy["mb_per_s"] > 0
    assert result["ratios"]["throughput_vs_copy"] == pytest.approx(upload["mb_per_s"] / copy["mb_per_s"], rel=0.01)
    assert set(result["goals"]) == {"memory_growth_within_50_mb", "throughput_at_least_half_copy"}
    assert result["goals"]["memory_growth_within_50_mb"]  # a 20 MB file: within the bound on any machine
    assert result["machine"]["cores"]
    assert result["versions"]["gunicorn"] != "not installed"
    text = uploads.markdown(result)
    assert text.startswith("## Uploads: one 20 MB file through the upload view")


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the load benchmark runs gunicorn on PostgreSQL; it runs only where DATABASE_URL names a server",
)
def test_load_quick_mode_puts_each_page_under_load_against_the_floor():
    result = load.run(quick=True)

    assert set(result["pages"]) == set(load.SCENARIOS)
    for name, page in result["pages"].items():
        assert page["scenario"] == name
        assert page["users"] == load.QUICK["users"]
        assert page["requests"] > 0, name
        assert page["errors"] == 0, (name, page["error_messages"], page["login_failures"])
        assert page["requests_per_s"] > 0
        assert 0 < page["median_ms"] <= page["p95_ms"]
        assert page["unloaded"]["queries"] >= 2  # the session and the user, at least
    assert result["pages"]["floor"]["ratio_to_floor"] == 1.0
    assert result["server_errors_logged"] == 0
    assert set(result["goals"]) == {"no_errors", "caseload_at_least_half_floor", "learner_home_at_least_half_floor"}
    assert result["goals"]["no_errors"]
    assert load.markdown(result).startswith("## Throughput: pages under load")
