"""Undo what rendering does to a specification's characters, line by line.

The line count never changes: the review page shows the normalised text with line numbers, and
every parsed field points at those lines.
"""

import re
import unicodedata

# Text decoded with the wrong code page (UTF-8 read as Windows-1252), and the stray characters
# that Word and PDF exports put where an apostrophe or a dash was meant.
_MOJIBAKE = {
    "â€™": "’",
    "â€˜": "‘",
    "â€œ": "“",
    "â€\x9d": "”",
    "â€“": "–",
    "â€”": "—",
    "â€¢": "•",
    "Â ": " ",
    "Â£": "£",
}
_STRAY = {
    "\u201f": "’",  # double high-reversed-9: a mis-encoded apostrophe ("organisation‟s")
    "\u201b": "’",
    "\u0092": "’",  # C1 controls: Windows-1252 punctuation decoded as Latin-1
    "\u0091": "‘",
    "\u0093": "“",
    "\u0094": "”",
    "\u0096": "–",
    "\u0097": "—",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u00ad": "",  # soft hyphen
    "\u200b": "",
    "\ufeff": "",
}
# Bullet glyphs, including the Symbol-font private-use ones PDFs leave behind.
BULLETS = "•●▪■◦‣∙·\uf0b7\uf0a7\uf076\uf0d8\uf0fc–"
_LEADING_BULLET = re.compile(rf"^(\s*)(?:[{BULLETS}]|[-*](?=\s))\s*")
_LEADING_SYMBOLS = re.compile(r"^(?:[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]\s*)+")
_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:[^*\n]*\S)?)\*(?![\w*])")
_SPACED_HYPHEN = re.compile(r"(?<=[a-z]) - (?=[a-z])")


def _quotes(line: str) -> str:
    """Straight single quotes become typographic ones, as the awarding bodies print them."""
    out = []
    for i, ch in enumerate(line):
        if ch != "'":
            out.append(ch)
            continue
        before = line[i - 1] if i else " "
        after = line[i + 1] if i + 1 < len(line) else " "
        opening = (before.isspace() or before in "([“") and not after.isspace()
        out.append("‘" if opening else "’")  # otherwise an apostrophe or a closing quote
    return "".join(out)


def normalise_line(line: str) -> str:
    for bad, good in _MOJIBAKE.items():
        line = line.replace(bad, good)
    for bad, good in _STRAY.items():
        line = line.replace(bad, good)
    line = unicodedata.normalize("NFC", line).rstrip()
    line = _LEADING_BULLET.sub(r"\1• ", line, count=1) if _LEADING_BULLET.match(line) else line
    if line.lstrip().startswith("• "):
        head, _, rest = line.partition("• ")
        line = head + "• " + _LEADING_SYMBOLS.sub("", rest)
    line = _EMPHASIS.sub(r"\1", line)
    line = _SPACED_HYPHEN.sub("-", line)
    return _quotes(line)


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(normalise_line(line) for line in text.split("\n"))


def squash(text: str) -> str:
    """One space between words, none at the ends."""
    return re.sub(r"\s+", " ", text).strip()
