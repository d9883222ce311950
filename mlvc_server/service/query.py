"""The query language over commits: one grammar for ``mlvc log --where``, ``?where=`` of
the REST log and compare, ``%mlvc log --where``, ``mlvc run --require`` and the Python
API (``mlvc.log(where=...)``).

    metrics.acc > 0.9 and params.C < 1 and branch ~ "sweep/*" and kind != "safety"

A query is parsed by `lark <https://lark-parser.readthedocs.io>`_ (an LALR(1) parser;
nothing is ever evaluated as Python) into a predicate over the commit summaries that
:func:`mlvc_server.service.log` returns.

Grammar, from loosest to tightest binding: ``or``, ``and``, ``not``; parentheses group.
A condition is ``FIELD OP VALUE``, ``FIELD in [VALUE, ...]``, ``FIELD not in [...]`` or
``FIELD exists``.

- Fields: ``params.NAME``, ``metrics.NAME`` (``NAME`` may hold dots: ``params.opt.lr``),
  ``branch``, ``author``, ``email``, ``message``, ``time`` (ISO 8601, compared as text),
  ``kind``, ``status``, ``notebook``, ``id`` (``=`` matches a prefix of 4+ characters),
  ``tags``, ``branches``, ``variables`` (lists: a condition holds when one element
  satisfies it).
- Operators: ``=`` (or ``==``), ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``~`` (glob:
  ``*``, ``?``, ``[abc]``; case-sensitive), ``!~``.
- Values: numbers (``1``, ``-0.5``, ``1e-3``), strings in double or single quotes (a bare
  word such as ``main`` is a string too), ``true``, ``false``, ``null``.
- Keywords (``and or not in exists true false null``) are lower case.

Types are not converted: a number compares with numbers (``1 = 1.0``), a string with
strings, a boolean only with ``true``/``false``; an ordering (``<`` ...) between values
of different types, or with a missing value, is false. A missing field is ``null``: so
``kind != "safety"`` holds for commits that have no kind, ``params.C = null`` for commits
without ``C``, and ``params.C exists`` for those with one.
"""

from __future__ import annotations

import fnmatch
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..errors import QueryError

__all__ = ["FIELDS", "Predicate", "compile_query", "matches"]

#: The fields a query may name, besides ``params.NAME`` and ``metrics.NAME``.
FIELDS = (
    "id",
    "branch",
    "author",
    "email",
    "message",
    "time",
    "kind",
    "status",
    "notebook",
    "tags",
    "branches",
    "variables",
)
_LIST_FIELDS = frozenset({"tags", "branches", "variables"})
#: The longest query accepted (a query is typed by a person; this bounds parse time).
MAX_QUERY_CHARS = 4_000

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr ("or" and_expr)*
?and_expr: not_expr ("and" not_expr)*
?not_expr: "not" not_expr -> negation
         | atom
?atom: "(" or_expr ")"
     | field OP value          -> comparison
     | field "in" array        -> member
     | field "not" "in" array  -> not_member
     | field "exists"          -> exists
field: NAME
array: "[" [value ("," value)*] "]"
?value: NUMBER -> number
      | DQ_STRING -> dq_string
      | SQ_STRING -> sq_string
      | "true" -> true
      | "false" -> false
      | "null" -> null
      | NAME -> word

OP: "==" | "!=" | "<=" | ">=" | "!~" | "=" | "<" | ">" | "~"
NAME: /[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*/
NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
DQ_STRING: /"(\\.|[^"\\])*"/
SQ_STRING: /'(\\.|[^'\\])*'/
%import common.WS
%ignore WS
"""

#: What the user reads for a terminal the parser expected.
_EXPECTED = {
    "NAME": "a name",
    "OP": "an operator (= != < <= > >= ~ !~)",
    "NUMBER": "a number",
    "DQ_STRING": "a string",
    "SQ_STRING": "a string",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "AND": "'and'",
    "OR": "'or'",
    "NOT": "'not'",
    "IN": "'in'",
    "EXISTS": "'exists'",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
}

#: A compiled query: True for the summaries it selects.
Predicate = Callable[[Mapping[str, Any]], bool]


@functools.cache
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", lexer="basic", maybe_placeholders=False)


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "other"


def _equal(a: Any, b: Any) -> bool:
    ka = _kind(a)
    if ka != _kind(b) or ka == "other":
        return False
    return bool(a == b)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _ordered(op: str, a: Any, b: Any) -> bool:
    ka = _kind(a)
    if ka != _kind(b) or ka not in ("number", "string"):
        return False
    if ka == "number" and (math.isnan(a) or math.isnan(b)):
        return False
    return _ORDER[op](a, b)


def _glob(a: Any, pattern: str) -> bool:
    return isinstance(a, str) and fnmatch.fnmatchcase(a, pattern)


def _getter(name: str, token: Token) -> Callable[[Mapping[str, Any]], Any]:
    head, _, rest = name.partition(".")
    if head in ("params", "metrics"):
        if not rest:
            raise _QueryError(token, f"{head!r} needs a name: {head}.NAME (for example {head}.lr)")
        key = rest

        def get_nested(c: Mapping[str, Any]) -> Any:
            return (c.get(head) or {}).get(key)

        return get_nested
    if head == "short_id" and not rest:
        head = "id"
    if rest or head not in FIELDS:
        raise _QueryError(
            token,
            f"unknown field {name!r} (fields: params.NAME, metrics.NAME, {', '.join(FIELDS)})",
        )

    def get_top(c: Mapping[str, Any]) -> Any:
        return c.get(head)

    return get_top


def _id_equal(value: Any, full: Any) -> bool:
    if not isinstance(value, str) or not isinstance(full, str) or len(value) < 4:
        return _equal(full, value)
    return full.startswith(value.lower())


def _condition(field: str, token: Token, op: str, value: Any) -> Predicate:
    get = _getter(field, token)
    base = field.partition(".")[0]
    is_id = base in ("id", "short_id")
    if op in ("~", "!~") and not isinstance(value, str):
        raise _QueryError(token, f"'{op}' takes a glob pattern in quotes, not {value!r}")
    test: Callable[[Any], bool]
    if op in ("=", "=="):
        test = (lambda v: _id_equal(value, v)) if is_id else (lambda v: _equal(v, value))
    elif op == "!=":
        test = (lambda v: _id_equal(value, v)) if is_id else (lambda v: _equal(v, value))
        return _negate(_any_of(get, test, base))
    elif op == "~":
        test = functools.partial(_glob, pattern=value)
    elif op == "!~":
        return _negate(_any_of(get, functools.partial(_glob, pattern=value), base))
    else:
        test = _bind_order(op, value)
    return _any_of(get, test, base)


def _bind_order(op: str, value: Any) -> Callable[[Any], bool]:
    def test(v: Any) -> bool:
        return _ordered(op, v, value)

    return test


def _any_of(
    get: Callable[[Mapping[str, Any]], Any], test: Callable[[Any], bool], base: str
) -> Predicate:
    if base in _LIST_FIELDS:

        def any_elem(c: Mapping[str, Any]) -> bool:
            items = get(c) or []
            return any(test(x) for x in items)

        return any_elem

    def one(c: Mapping[str, Any]) -> bool:
        return test(get(c))

    return one


def _negate(p: Predicate) -> Predicate:
    def neg(c: Mapping[str, Any]) -> bool:
        return not p(c)

    return neg


def _unquote(text: str) -> str:
    body = text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class _QueryError(Exception):
    """Raised inside the transformer; carries the token (lark wraps other exceptions)."""

    def __init__(self, token: Token, message: str) -> None:
        super().__init__(message)
        self.token = token
        self.message = message


class _Number:
    """A number literal with its text (``id = 01234567`` compares the text)."""

    __slots__ = ("text", "value")

    def __init__(self, value: float, text: str) -> None:
        self.value = value
        self.text = text


def _plain(field: str, value: Any) -> Any:
    """A literal's value for ``field``: numbers are text for ``id``, numbers elsewhere."""
    if isinstance(value, _Number):
        return value.text if field in ("id", "short_id") else value.value
    return value


@v_args(inline=True)
class _Compile(Transformer[Token, Any]):
    """The parse tree to a predicate (closures; nothing is evaluated as code)."""

    def number(self, tok: Token) -> _Number:
        text = str(tok)
        try:
            return _Number(int(text), text)
        except ValueError:
            return _Number(float(text), text)

    def dq_string(self, tok: Token) -> str:
        return _unquote(str(tok))

    sq_string = dq_string

    def word(self, tok: Token) -> str:
        return str(tok)

    def true(self) -> bool:
        return True

    def false(self) -> bool:
        return False

    def null(self) -> None:
        return None

    def array(self, *values: Any) -> list[Any]:
        return [*values]

    def field(self, tok: Token) -> tuple[str, Token]:
        return str(tok), tok

    def comparison(self, field: tuple[str, Token], op: Token, value: Any) -> Predicate:
        return _condition(field[0], field[1], str(op), _plain(field[0], value))

    def member(self, field: tuple[str, Token], values: list[Any]) -> Predicate:
        tests = [_condition(field[0], field[1], "=", _plain(field[0], v)) for v in values]

        def any_of(c: Mapping[str, Any]) -> bool:
            return any(t(c) for t in tests)

        return any_of

    def not_member(self, field: tuple[str, Token], values: list[Any]) -> Predicate:
        return _negate(self.member(field, values))

    def exists(self, field: tuple[str, Token]) -> Predicate:
        get = _getter(*field)
        base = field[0].partition(".")[0]
        if base in _LIST_FIELDS:
            return lambda c: bool(get(c))
        return lambda c: get(c) is not None

    def negation(self, p: Predicate) -> Predicate:
        return _negate(p)

    def and_expr(self, *ps: Predicate) -> Predicate:
        return lambda c: all(p(c) for p in ps)

    def or_expr(self, *ps: Predicate) -> Predicate:
        return lambda c: any(p(c) for p in ps)


def _caret(query: str, column: int, width: int = 1) -> str:
    """The query's line with a caret under the column (1-based)."""
    line_start = query.rfind("\n", 0, max(column - 1, 0)) + 1
    line_end = query.find("\n", line_start)
    line = query[line_start : line_end if line_end >= 0 else None]
    col = column - 1 - line_start
    return f"  {line}\n  {' ' * col}{'^' * max(width, 1)}"


def _expected(names: set[str] | frozenset[str]) -> str:
    words = sorted({_EXPECTED.get(n, n) for n in names})
    if not words:
        return ""
    listed = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
    return f" (expected {listed})"


def _fail(query: str, column: int, token: str, message: str) -> QueryError:
    return QueryError(
        f"query error at column {column}: {message}\n{_caret(query, column, len(token))}",
        query=query,
        column=column,
        token=token,
    )


@functools.lru_cache(maxsize=256)
def compile_query(query: str) -> Predicate:
    """Parse a query into a predicate over commit summaries.

    Args:
        query: the query text (see the module's documentation for the grammar).

    Returns:
        A function of one summary (``mlvc.log()``'s entries) that is True when the
        commit matches.

    Raises:
        QueryError: the query does not parse, or names an unknown field; the message
            names the column and shows the query with a caret under the bad token.
    """
    if not isinstance(query, str):
        raise QueryError(f"a query is text, not {type(query).__name__}", query=str(query))
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query is {len(query)} characters long; at most {MAX_QUERY_CHARS} are accepted",
            query=query[:80],
        )
    if not query.strip():
        raise QueryError("the query is empty", query=query, column=1, token="")
    try:
        tree = _parser().parse(query)
    except UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            raise _fail(
                query, len(query) + 1, " ", "the query ends too early" + _expected(e.expected)
            ) from None
        raise _fail(
            query,
            tok.column or 1,
            str(tok),
            f"unexpected {str(tok)!r}" + _expected(e.expected),
        ) from None
    except UnexpectedCharacters as e:
        pos = e.pos_in_stream or 0
        ch = query[pos] if pos < len(query) else ""
        hint = ""
        if ch in "\"'":
            hint = " (a string is not closed)"
        raise _fail(
            query, e.column, ch, f"unexpected character {ch!r}{hint}" + _expected(e.allowed)
        ) from None
    except UnexpectedEOF as e:
        raise _fail(
            query, len(query) + 1, " ", "the query ends too early" + _expected(set(e.expected))
        ) from None
    except UnexpectedInput as e:  # pragma: no cover - the cases above are all lark raises
        raise _fail(query, getattr(e, "column", 1) or 1, "", str(e)) from None
    try:
        pred: Any = _Compile().transform(tree)
    except _QueryError as e:
        raise _fail(query, e.token.column or 1, str(e.token), e.message) from None
    except Exception as e:
        inner = getattr(e, "orig_exc", None)
        if isinstance(inner, _QueryError):
            raise _fail(query, inner.token.column or 1, str(inner.token), inner.message) from None
        raise
    if not callable(pred):  # a lone value or field is not a condition
        raise QueryError("the query is not a condition", query=query, column=1, token="")
    result: Predicate = pred
    return result


def matches(query: str, summary: Mapping[str, Any]) -> bool:
    """Whether one commit summary matches ``query`` (see :func:`compile_query`)."""
    return compile_query(query)(summary)
