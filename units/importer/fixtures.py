"""`fixtures/units/` rebuilt from the source documents: each unit's seeds parsed, merged in the
order `fixtures/seeds.toml` gives, and written in the fixture format. Regenerating the checked-in
fixtures must change nothing; a test holds that."""

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from units.importer.merge import merge
from units.importer.parse import parse_text
from units.importer.result import ImportResult

FIELD_ORDER = [
    "key", "version", "title", "level", "credit_value", "guided_learning_hours", "reference_number",
    "codes", "purpose", "assessment_notes", "assessment_guidance", "nos_statement", "nos_standards",
    "additional_information", "real_work_only", "simulation_allowed", "sufficient_period_required",
    "outcomes", "evidence_requirements", "learner_guidance", "sources",
]  # fmt: skip


class RegenerateError(Exception):
    """A seed is missing, or two seeds of one unit disagree."""


@dataclass(frozen=True)
class Regenerated:
    path: Path
    text: str
    warnings: list[str]


def fixtures_dir() -> Path:
    return Path(settings.BASE_DIR) / "fixtures"


def seeds_dir() -> Path:
    return Path(os.environ.get("SEEDS_DIR") or Path(settings.BASE_DIR).parent / "shared" / "seeds")


def read_manifest(path: Path | None = None) -> list[dict[str, Any]]:
    with open(path or fixtures_dir() / "seeds.toml", "rb") as f:
        return tomllib.load(f)["units"]


def parse_seed(name: str, seeds: Path | None = None) -> ImportResult:
    path = (seeds or seeds_dir()) / name
    if not path.is_file():
        raise RegenerateError(f"Seed {name} is not in {path.parent}; set SEEDS_DIR to the folder that holds it.")
    return parse_text(path.read_text(encoding="utf-8"), source_name=name)


def fixture_text(unit: dict[str, Any]) -> str:
    return json.dumps({k: unit[k] for k in FIELD_ORDER}, indent=2, ensure_ascii=False) + "\n"


def regenerate(seeds: Path | None = None, manifest: Path | None = None) -> list[Regenerated]:
    out = []
    for entry in read_manifest(manifest):
        names = [s["document"] for s in entry["sources"]]
        parts = [(name, parse_seed(name, seeds)) for name in names]
        data, conflicts = merge(parts)
        if conflicts:
            raise RegenerateError(f"{entry['key']}: the seeds disagree:\n  " + "\n  ".join(conflicts))
        sources = [{"title": s["title"], "document": s["document"]} for s in entry["sources"]]
        data.update(key=entry["key"], version=entry["version"], sources=sources)
        warnings = [f"{name}: {w}" for name, result in parts for w in result.warnings]
        path = fixtures_dir() / "units" / f"{entry['key']}.json"
        out.append(Regenerated(path, fixture_text(data), warnings))
    return out
