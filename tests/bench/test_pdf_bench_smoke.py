"""The PDF benchmark's quick mode runs end to end (build, single, floor, whole, two workers) and
reports every figure RESULTS.md is made from."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

PER_WAY = {
    "single": {"wall_s", "peak_rss_mb", "pages", "pdf_mb", "documents"},
    "floor": {"wall_s", "peak_rss_mb", "pages", "documents"},
    "whole": {"wall_s", "peak_rss_mb", "pages", "documents"},
}
PARALLEL = {"wall_s", "pages", "pdf_mb", "sections", "planning_s", "merge_s", "sections_by_worker", "workers"}
GOALS = {
    "single_within_1_2x_floor",
    "largest_single_under_1_gb",
    "memory_at_most_linear",
    "parallel_within_0_6x_single",
    "worker_memory_at_most_half",
}


def test_the_quick_benchmark_reports_every_figure(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    argv = [sys.executable, "-m", "bench.pdf", "--quick", "--out", str(tmp_path)]
    subprocess.run(argv, cwd=settings.BASE_DIR, env=env, check=True, timeout=600, capture_output=True)

    result = json.loads((tmp_path / "pdf.json").read_text())
    assert (result["benchmark"], result["scale"], result["workers"]) == ("pdf", "quick", 2)
    assert {"cpu", "cores", "python"} <= set(result["machine"])
    assert {"weasyprint", "pypdf", "celery"} <= set(result["versions"])
    assert set(result["goals"]) == GOALS
    small, large = result["portfolios"]
    assert (small["portfolio"]["evidence"], large["portfolio"]["evidence"]) == (3, 6)
    assert (small["whole"], small["parallel"]) == (None, None), "only the largest, to stay short"
    for way, fields in PER_WAY.items():
        assert set(large[way]) >= fields, way
    assert set(small["single"]) >= PER_WAY["single"]
    assert set(small["floor"]) >= PER_WAY["floor"]
    # The same pages whichever way they were made.
    assert large["single"]["pages"] == large["floor"]["pages"] == large["whole"]["pages"] > small["floor"]["pages"]
    assert large["single"]["documents"] == large["floor"]["documents"]
    parallel = large["parallel"]
    assert set(parallel) >= PARALLEL
    assert parallel["pages"] == large["single"]["pages"]
    assert [w["peak_rss_mb"] > 0 for w in parallel["workers"]] == [True, True]
    assert {"single_over_floor", "parallel_over_single", "worker_memory_over_single"} <= set(large["ratios"])
    assert set(result["memory_growth"]) == {"single", "floor", "whole"}
    assert "| Evidence (photos) |" in (tmp_path / "pdf.md").read_text()
