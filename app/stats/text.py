"""Text as every export can store it, pure: control characters out, formulas never started.

Unit names stored before names were validated may hold control characters (`\\x0b`, `\\x01`),
which XML (XLSX, DOCX) cannot carry at all and which a CSV reader shows as garbage. An export
never fails on them: they are dropped from the file, the stored name stays as it is.
"""

import re
from functools import lru_cache

from pypinyin import lazy_pinyin

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates, and the two non-characters
# XML forbids.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What a spreadsheet program skips before it decides that a cell is a formula.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_FORMULA_LINE = re.compile(rf"(?:^|[\r\n])[\s{_INVISIBLE}]*[=+\-@]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def clean_text(value: str) -> str:
    """The text with what no file format can hold removed (a carriage return becomes a newline)."""
    return _UNSTORABLE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def formula_safe(value: str) -> str:
    """Text a spreadsheet program shows as text: a quote first when any line could start a
    formula, even after spaces or zero-width characters (`\\n=`, ` =`, `\\u200b=`)."""
    value = clean_text(value)
    if value.startswith(("\t",)) or _FORMULA_LINE.search(value):
        return "'" + value
    return value


def markdown_escaped(value: str) -> str:
    """A name inside Markdown prose, where `*`, `_`, `|`, `[`, `<`… would otherwise format it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", clean_text(value)).replace("\n", " ")


@lru_cache(maxsize=65536)
def pinyin_key(name: str) -> tuple[str, str]:
    """The order a Chinese reader expects (安 before 北 before 长), not code-point order; the
    name itself breaks ties between homophones."""
    return (" ".join(lazy_pinyin(name)), name)
