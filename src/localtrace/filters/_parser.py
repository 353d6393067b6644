"""Tokens -> syntax tree, one ``_parse_*`` method per grammar rule.

::

    filter := call EOF
    call   := NAME "(" [arg ("," arg)*] ")"
    arg    := call | NAME | literal | list
    list   := "[" [literal ("," literal)*] "]"
    literal:= STRING | NUMBER | true | false | null

The tree knows nothing about attributes; ``_resolve`` checks names and types afterwards. Depth
and size are bounded so a hostile filter cannot exhaust the stack or build enormous SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import syntax_error
from ._lexer import EOF, IDENT, NUMBER, PUNCT, STRING, Token, TokenValue, tokenize

MAX_DEPTH = 40
"""Deepest nesting of calls and lists accepted.

Bounded by SQLite rather than by Python: before 3.46 its parser stack holds 100 entries, and the
compiled SQL of the worst filter at this depth (tree scope, input pairs at the bottom) still
leaves room for the caller to wrap it in two more subqueries.
"""

MAX_NODES = 2000
"""Most calls, names and literals accepted in one filter."""

KEYWORDS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class SyntaxName:
    """A bare name in argument position (an attribute)."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class SyntaxLiteral:
    """A string, number, true, false or null, with its source text."""

    value: TokenValue | bool
    kind: str  # "string" | "number" | "keyword"
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class SyntaxList:
    """``[literal, ...]``."""

    items: tuple[SyntaxLiteral, ...]
    start: int
    end: int


@dataclass(frozen=True)
class SyntaxCall:
    """``name(arg, ...)``; ``name_end`` closes the function name's span."""

    name: str
    args: tuple[SyntaxArg, ...]
    start: int
    name_end: int
    end: int


SyntaxArg = SyntaxCall | SyntaxName | SyntaxLiteral | SyntaxList


class Parser:
    """Recursive descent over the token list of one filter."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.nodes = 0

    # -- token helpers ---------------------------------------------------------------------
    def _peek(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != EOF:
            self.index += 1
        return token

    def _is(self, punct: str) -> bool:
        token = self._peek()
        return token.kind == PUNCT and token.value == punct

    def _expect(self, punct: str, what: str) -> Token:
        token = self._peek()
        if token.kind == PUNCT and token.value == punct:
            return self._advance()
        raise syntax_error(
            self.text,
            token.start,
            token.end,
            f"expected {what}, found {token.text}",
            self._hint_for(token),
        )

    def _hint_for(self, token: Token) -> str:
        previous = self.tokens[self.index - 1] if self.index else None
        if (
            token.kind == IDENT
            and previous is not None
            and previous.kind == NUMBER
            and previous.end == token.start
        ):
            return f'quote durations and other text: "{previous.value}{token.value}"'
        if token.kind == EOF:
            return "the filter ends too early; close every '(' and '['"
        return ""

    def _count(self, start: int, end: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise syntax_error(
                self.text,
                start,
                end,
                f"filter too large: more than {MAX_NODES} terms",
                "split it into smaller filters",
            )

    # -- grammar rules ---------------------------------------------------------------------
    def parse(self) -> SyntaxCall:
        """``filter := call EOF``."""
        first = self._peek()
        if first.kind == EOF:
            raise syntax_error(
                self.text,
                0,
                max(1, len(self.text)),
                "the filter is empty",
                'write a condition such as eq(run_type, "llm"), or pass no filter',
            )
        if first.kind != IDENT:
            raise syntax_error(
                self.text,
                first.start,
                first.end,
                f"a filter starts with a function name, found {first.text}",
                'for example eq(run_type, "llm") or and(..., ...)',
            )
        call = self._parse_call()
        extra = self._peek()
        if extra.kind != EOF:
            raise syntax_error(
                self.text,
                extra.start,
                len(self.text),
                f"unexpected {extra.text} after the end of the filter",
                "combine several conditions with and(...) or or(...)",
            )
        return call

    def _parse_call(self) -> SyntaxCall:
        """``call := NAME "(" [arg ("," arg)*] ")"``."""
        name = self._advance()
        assert name.kind == IDENT and isinstance(name.value, str)
        self._count(name.start, name.end)
        if not self._is("("):
            token = self._peek()
            raise syntax_error(
                self.text,
                token.start,
                token.end,
                f"expected '(' after {name.value}, found {token.text}",
                f"a filter is a call: {name.value}(...)",
            )
        self._enter(name)
        self._advance()
        args: list[SyntaxArg] = []
        if not self._is(")"):
            args.append(self._parse_arg())
            while self._is(","):
                self._advance()
                args.append(self._parse_arg())
        close = self._expect(")", "',' or ')'")
        self.depth -= 1
        return SyntaxCall(name.value, tuple(args), name.start, name.end, close.end)

    def _enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise syntax_error(
                self.text,
                token.start,
                token.end,
                f"filter too deeply nested: more than {MAX_DEPTH} levels",
                "flatten it: and(...) and or(...) take any number of arguments",
            )

    def _parse_arg(self) -> SyntaxArg:
        """``arg := call | NAME | literal | list``."""
        token = self._peek()
        if token.kind == IDENT:
            following = self.tokens[self.index + 1]
            if following.kind == PUNCT and following.value == "(":
                return self._parse_call()
            assert isinstance(token.value, str)
            self._advance()
            self._count(token.start, token.end)
            if token.value in KEYWORDS:
                return SyntaxLiteral(
                    KEYWORDS[token.value], "keyword", token.value, token.start, token.end
                )
            return SyntaxName(token.value, token.start, token.end)
        if self._is("["):
            return self._parse_list()
        if token.kind in (STRING, NUMBER):
            return self._parse_literal()
        raise syntax_error(
            self.text,
            token.start,
            token.end,
            f"expected an argument, found {token.text}",
            self._hint_for(token),
        )

    def _parse_literal(self) -> SyntaxLiteral:
        """``literal := STRING | NUMBER | true | false | null``."""
        token = self._peek()
        if token.kind == IDENT and isinstance(token.value, str) and token.value in KEYWORDS:
            self._advance()
            self._count(token.start, token.end)
            return SyntaxLiteral(
                KEYWORDS[token.value], "keyword", token.value, token.start, token.end
            )
        if token.kind in (STRING, NUMBER):
            self._advance()
            self._count(token.start, token.end)
            return SyntaxLiteral(
                token.value, token.kind, self.text[token.start : token.end], token.start, token.end
            )
        raise syntax_error(
            self.text,
            token.start,
            token.end,
            f"expected a value in the list, found {token.text}",
            "list items are strings, numbers, true, false or null",
        )

    def _parse_list(self) -> SyntaxList:
        """``list := "[" [literal ("," literal)*] "]"``."""
        open_token = self._advance()
        self._count(open_token.start, open_token.end)
        self._enter(open_token)
        items: list[SyntaxLiteral] = []
        if not self._is("]"):
            items.append(self._parse_literal())
            while self._is(","):
                self._advance()
                items.append(self._parse_literal())
        close = self._expect("]", "',' or ']'")
        self.depth -= 1
        return SyntaxList(tuple(items), open_token.start, close.end)


def parse_syntax(text: str) -> SyntaxCall:
    """The syntax tree of ``text``; raises ``FilterSyntaxError``."""
    return Parser(text).parse()
