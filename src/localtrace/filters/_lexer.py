"""Filter text -> tokens with positions.

Strings take single or double quotes with JSON escapes (the SDK builds filters with
``json.dumps``); numbers follow JSON (sign, fraction, exponent). Anything else is an error that
points at the character, never an exception from deeper down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import syntax_error
from ._literals import INT64_MAX

IDENT = "name"
STRING = "string"
NUMBER = "number"
PUNCT = "punctuation"
EOF = "end of filter"


_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LOOSE_NUMBER_RE = re.compile(r"[-+]?[0-9.]+(?:[eE][+-]?[0-9]*)?")
_ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_WHITESPACE = " \t\r\n"

TokenValue = str | int | float | None


@dataclass(frozen=True)
class Token:
    """One token: ``kind``, its decoded ``value`` and the span ``start..end`` in the text."""

    kind: str
    value: TokenValue
    start: int
    end: int

    @property
    def text(self) -> str:
        """How the token reads in an error message."""
        if self.kind == EOF:
            return "the end of the filter"
        if self.kind == STRING:
            return f"the string {self.value!r}"
        if self.kind == NUMBER:
            return f"the number {self.value}"
        return f"'{self.value}'"


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an EOF token."""
    tokens: list[Token] = []
    pos = 0
    size = len(text)
    while True:
        while pos < size and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= size:
            tokens.append(Token(EOF, None, size, size))
            return tokens
        char = text[pos]
        if char in "()[],":
            tokens.append(Token(PUNCT, char, pos, pos + 1))
            pos += 1
        elif char in "\"'":
            token = _read_string(text, pos)
            tokens.append(token)
            pos = token.end
        elif char == "-" or char.isdigit():
            token = _read_number(text, pos)
            tokens.append(token)
            pos = token.end
        else:
            match = _IDENT_RE.match(text, pos)
            if match is None:
                raise syntax_error(
                    text,
                    pos,
                    pos + 1,
                    f"unexpected character {char!r}",
                    'a filter is made of calls like eq(name, "x"), names, quoted strings, '
                    "numbers, true, false, null and [lists]",
                )
            tokens.append(Token(IDENT, match.group(), pos, match.end()))
            pos = match.end()


def _read_number(text: str, pos: int) -> Token:
    loose = _LOOSE_NUMBER_RE.match(text, pos)
    match = _NUMBER_RE.match(text, pos)
    loose_end = loose.end() if loose else pos + 1
    if match is None or match.end() < loose_end:
        raise syntax_error(
            text,
            pos,
            max(loose_end, pos + 1),
            f"malformed number {text[pos:loose_end]!r}",
            "write numbers as in JSON, e.g. 5, -2, 0.5 or 1e-3",
        )
    raw = match.group()
    value: int | float
    if any(c in raw for c in ".eE"):
        value = float(raw)
        if value in (float("inf"), float("-inf")):
            raise syntax_error(text, pos, match.end(), f"number {raw} is out of range")
    else:
        value = int(raw)
        if abs(value) > INT64_MAX:
            raise syntax_error(
                text,
                pos,
                match.end(),
                f"integer {raw} is out of range",
                "integers must fit in 64 bits; write a decimal like 1e20 if you mean a float",
            )
    return Token(NUMBER, value, pos, match.end())


def _read_string(text: str, start: int) -> Token:
    quote = text[start]
    pos = start + 1
    size = len(text)
    parts: list[str] = []
    while True:
        if pos >= size:
            raise syntax_error(
                text,
                start,
                size,
                "unterminated string",
                f"close the string with {quote}",
            )
        char = text[pos]
        if char == quote:
            return Token(STRING, "".join(parts), start, pos + 1)
        if "\ud800" <= char <= "\udfff":
            raise syntax_error(
                text, pos, pos + 1, "lone surrogate in string", "the filter must be valid Unicode"
            )
        if char != "\\":
            parts.append(char)
            pos += 1
            continue
        if pos + 1 >= size:
            raise syntax_error(text, start, size, "unterminated string", f"close it with {quote}")
        escape = text[pos + 1]
        if escape in _ESCAPES:
            parts.append(_ESCAPES[escape])
            pos += 2
        elif escape == "u":
            char_code, pos = _read_unicode_escape(text, pos)
            parts.append(char_code)
        else:
            raise syntax_error(
                text,
                pos,
                pos + 2,
                f"unknown escape \\{escape}",
                "use JSON escapes: \\\" \\' \\\\ \\n \\t \\uXXXX",
            )


def _hex4(text: str, pos: int) -> int | None:
    digits = text[pos : pos + 4]
    if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
        return int(digits, 16)
    return None


def _read_unicode_escape(text: str, pos: int) -> tuple[str, int]:
    """Decode ``\\uXXXX`` (and a following low surrogate) at ``pos``; return char, next pos."""
    code = _hex4(text, pos + 2)
    if code is None:
        raise syntax_error(
            text, pos, min(len(text), pos + 6), "bad \\u escape", "write four hex digits: \\u00e9"
        )
    end = pos + 6
    if 0xD800 <= code < 0xDC00 and text[end : end + 2] == "\\u":
        low = _hex4(text, end + 2)
        if low is not None and 0xDC00 <= low < 0xE000:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), end + 6
    if 0xD800 <= code < 0xE000:
        raise syntax_error(
            text, pos, end, "lone surrogate in \\u escape", "write the character itself instead"
        )
    return chr(code), end
