"""A unit from the fixtures written out as a specification document, the way awarding bodies lay
them out: as plain text with the columns one after another (what a PDF's text looks like), or as
an HTML page with the outcomes table. The importer must read these back to the same unit."""

import html
import textwrap
from typing import Any


def header_lines(unit: dict[str, Any]) -> list[str]:
    lines = [f"Unit Title: {unit['title']}"]
    lines += [f"{c['issuer']} unit number {c['code']}".strip() for c in unit["codes"] if c["issuer"]]
    lines += [
        f"Level: {unit['level']}",
        f"Credit value: {unit['credit_value']}",
        f"Guided learning hours: {unit['guided_learning_hours']}",
    ]
    if unit["reference_number"]:
        lines.append(f"Unit reference number: {unit['reference_number']}")
    return lines


def third_column(unit: dict[str, Any]) -> str:
    knowledge = any(o["knowledge"] for o in unit["outcomes"])
    return "Knowledge, Understanding and Skills" if knowledge else "Additional Guidance"


def notes(outcome: dict[str, Any]) -> list[tuple[str, str]]:
    """The third column of an outcome's row: ("heading" | "para" | "bullet", text)."""
    out: list[tuple[str, str]] = []
    for section in outcome["knowledge"]:
        out.append(("heading", section["heading"]))
        for point in section["points"]:
            # A point in lower case is a list item in the documents (its bullet may be lost).
            out.append(("bullet" if point["text"][:1].islower() else "para", point["text"]))
            out += [("bullet", b) for b in point["bullets"]]
    out += [("para", c["guidance"]) for c in outcome["criteria"] if c["guidance"]]
    return out


def spec_blocks(unit: dict[str, Any]) -> list[tuple[str, str]]:
    """The document as blocks in reading order: ("line" | "para" | "bullet", text). Paragraphs
    may be wrapped; lines may not."""
    blocks: list[tuple[str, str]] = [("line", line) for line in header_lines(unit)]
    blocks += [("line", "Unit purpose and aim")] + [("para", p) for p in unit["purpose"].split("\n\n") if p]
    blocks += [("line", f"Learning Outcomes Assessment Criteria {third_column(unit)}"), ("line", "The Learner will:")]
    for outcome in unit["outcomes"]:
        blocks.append(("para", f"{outcome['number']} {outcome['text']}"))
        if outcome["number"] == 1:
            blocks.append(("line", "The Learner can:"))
        blocks += [("para", f"{c['number']} {c['text']}") for c in outcome["criteria"]]
        for kind, text in notes(outcome):
            blocks.append(("bullet" if kind == "bullet" else "line" if kind == "heading" else "para", text))
    if unit["assessment_notes"]:
        blocks += [("line", "Assessment")] + [("para", n) for n in unit["assessment_notes"]]
    if unit["evidence_requirements"]:
        blocks.append(("line", "Evidence requirements"))
        for r in unit["evidence_requirements"]:
            blocks.append(("para", f"{r['number']}. {r['text']}"))
            blocks += [("bullet", f"{i['letter']} {i['text']}") for i in r["items"]]
    if unit["additional_information"]:
        blocks += [("line", "Additional information"), ("para", unit["additional_information"])]
    return blocks


def spec_text(unit: dict[str, Any], width: int = 10_000) -> str:
    lines: list[str] = []
    for kind, text in spec_blocks(unit):
        if kind == "line":
            lines.append(text)
        elif kind == "bullet":
            lines += [" " + w for w in textwrap.wrap(text, width)[:1]] + textwrap.wrap(text, width)[1:]
        else:
            lines += textwrap.wrap(text, width)
    return "\n".join(lines) + "\n"


def spec_html(unit: dict[str, Any]) -> str:
    e = html.escape
    rows = []
    for o in unit["outcomes"]:
        criteria = "".join(f"<p>{c['number']} {e(c['text'])}</p>" for c in o["criteria"])
        third, in_list = [], False
        for kind, text in notes(o):
            if kind == "bullet" and not in_list:
                third.append("<ul>")
            if kind != "bullet" and in_list:
                third.append("</ul>")
            in_list = kind == "bullet"
            third.append(f"<li>{e(text)}</li>" if in_list else f"<p>{e(text)}</p>")
        third.append("</ul>" if in_list else "")
        outcome = f"<p>{o['number']} {e(o['text'])}</p>"
        rows.append(f"<tr><td>{outcome}</td><td>{criteria}</td><td>{''.join(third)}</td></tr>")
    requirements = "".join(
        f"<p>{r['number']}. {e(r['text'])}</p>"
        + ("<ul>" + "".join(f"<li>{e(i['text'])}</li>" for i in r["items"]) + "</ul>" if r["items"] else "")
        for r in unit["evidence_requirements"]
    )
    head = "".join(f"<p>{e(line)}</p>" for line in header_lines(unit))
    purpose = "".join(f"<p>{e(p)}</p>" for p in unit["purpose"].split("\n\n"))
    return f"""<!doctype html><html><head><title>{e(unit["title"])}</title><style>td {{ width: 33% }}</style></head>
<body>{head}<h2>Unit purpose and aim</h2>{purpose}
<table><tr><th>Learning Outcomes</th><th>Assessment Criteria</th><th>{third_column(unit)}</th></tr>
{"".join(rows)}</table>
{"<h2>Evidence requirements</h2>" + requirements if requirements else ""}
</body></html>"""
