"""Purge portfolios past their awarding body's retention; see portfolio.services.retention.

Run it daily (cron or a systemd timer). `--dry-run` changes nothing and prints exactly what a
real run would do; `--json` prints the same as one JSON document for scripts.
"""

import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portfolio.filetypes import format_size
from portfolio.retention_selectors import RetentionEntry, Verdict
from portfolio.services.retention import PurgeRun, retention_purge

WOULD = {
    Verdict.PURGE_RECORDS: ("would purge the records", "purged the records"),
    Verdict.PURGE_EVIDENCE: ("would purge the evidence files", "purged the evidence files"),
    Verdict.HELD: ("held", "held"),
    Verdict.NO_RULE: ("no rule", "no rule"),
    Verdict.BUSY: ("busy", "busy"),
    Verdict.NOT_DUE: ("not yet due", "not yet due"),
}


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date like 2027-03-01, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Delete evidence files and portfolio records past their awarding body's retention rule, "
        "except portfolios on legal hold. Every purge is written to the audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Change nothing; print what would be purged.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument(
            "--today", type=_date, default=None, help="Judge as if it were this date (YYYY-MM-DD); default today."
        )

    def handle(self, *args: object, **options: Any) -> None:
        run = retention_purge(today=options["today"], dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps(as_json(run), indent=2, ensure_ascii=False))
        elif int(options["verbosity"]) >= 1:
            self.stdout.write(describe(run, verbose=int(options["verbosity"]) >= 2))
        if run.errors or run.undeleted:
            raise CommandError(
                f"{len(run.errors)} portfolio(s) could not be purged and {len(run.undeleted)} stored file(s) "
                "could not be deleted; see above and the log."
            )


def as_json(run: PurgeRun) -> dict[str, Any]:
    return {
        "today": run.today.isoformat(),
        "dry_run": run.dry_run,
        "totals": _totals(run),
        "not_certified": run.not_certified,
        "enrolments": [entry.as_json() for entry in run.entries],
        "undeleted_files": list(run.undeleted),
    }


def _totals(run: PurgeRun) -> dict[str, int]:
    purging = [e for e in run.entries if e.verdict in (Verdict.PURGE_EVIDENCE, Verdict.PURGE_RECORDS) and not e.error]
    return {
        **{str(verdict): run.count(verdict) for verdict in Verdict},
        "errors": len(run.errors),
        "files": sum(len(e.files) for e in purging),
        "bytes": sum(e.file_bytes for e in purging),
        "exports": sum(len(e.exports) for e in purging),
    }


def describe(run: PurgeRun, *, verbose: bool = False) -> str:
    heading = f"Retention on {run.today:%Y-%m-%d}"
    lines = [heading + (" (dry run: nothing is changed)" if run.dry_run else "")]
    for entry in run.entries:
        lines += _entry_lines(entry, run.dry_run, verbose)
    t = _totals(run)
    verb = "would purge" if run.dry_run else "purged"
    purged = f"{verb} the evidence of {t['purge_evidence']} and the records of {t['purge_records']}"
    stored = f"{t['files']} file(s), {format_size(t['bytes'])}, {t['exports']} PDF export(s)"
    others = f"{t['held']} held, {t['no_rule']} with no rule, {t['busy']} busy, {t['not_due']} not yet due"
    failed = f", {t['errors']} failed" if t["errors"] else ""
    lines.append(f"{len(run.entries)} certified portfolio(s) with records kept: {purged} ({stored}); {others}{failed}.")
    lines.append(f"{run.not_certified} portfolio(s) have no certification date: retention has not started for them.")
    lines += [f"Could not delete from storage: {name}" for name in run.undeleted]
    return "\n".join(lines)


def _entry_lines(entry: RetentionEntry, dry_run: bool, verbose: bool) -> list[str]:
    label = WOULD[entry.verdict][0 if dry_run else 1].upper()
    outcome = f"    {label}: {entry.reason}"
    if entry.error:
        outcome = f"    FAILED, NOTHING CHANGED: {entry.reason} ({entry.error})"
    lines = [
        f"- {entry.learner} ({entry.learner_username}), {entry.centre}: {entry.qualification} [{entry.awarding_body}]",
        outcome,
    ]
    rule = str(entry.rule) if entry.rule else "none"
    dates = f"certified {entry.certified_on:%Y-%m-%d}"
    if entry.evidence_due and entry.records_due:
        dates += f", evidence due {entry.evidence_due:%Y-%m-%d}, records due {entry.records_due:%Y-%m-%d}"
    lines.append(f"    rule {rule}; {dates}")
    for hold in entry.holds:
        lines.append(f"    legal hold by {hold.placed_by} on {hold.placed_at:%Y-%m-%d}: {hold.reason}")
    if entry.verdict in (Verdict.PURGE_EVIDENCE, Verdict.PURGE_RECORDS):
        lines.append(
            f"    files: {len(entry.files)} ({format_size(entry.file_bytes)}); PDF exports: {len(entry.exports)}"
        )
        if verbose:
            lines += [f"      file {f.uuid} sha256 {f.sha256} {f.size} bytes" for f in entry.files]
            lines += [f"      export {x.uuid} ({x.state})" for x in entry.exports]
    if entry.records:
        rows = ", ".join(f"{label} {count}" for label, count in entry.records.items() if count)
        lines.append(f"    rows: {sum(entry.records.values())} ({rows or 'none'})")
    return lines
