"""Import a unit specification from the document an awarding body publishes.

`import_document` takes an upload (text, HTML, PDF or DOCX); `parse_text` takes pasted text.
Both return an `ImportResult`: the unit in the fixture shape, where each field came from, and
what could not be placed.
"""

from units.importer.check import problems
from units.importer.parse import parse_text
from units.importer.result import ImportResult, Span


def import_document(data: bytes, filename: str = "", *, source_name: str = "") -> ImportResult:
    from units.importer.extract import extract_text

    return parse_text(extract_text(data, filename), source_name=source_name or filename)


__all__ = ["ImportResult", "Span", "import_document", "parse_text", "problems"]
