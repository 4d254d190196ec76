"""The news query language: parse a question's ``news`` query into an AST, and translate
the AST into a GDELT DOC 2.0 query.

Syntax (the same as GDELT's, plus explicit operators)::

    hypersonic "first flight" (Russia OR China) -exercise
    "Su-57" AND (export OR delivery) NOT India

- a word or a "quoted phrase" is a term; terms match case-insensitively
- a word ending in ``*`` is a prefix wildcard: ``двигател*`` matches двигатели and
  двигателей (at least 3 letters or digits before the ``*``; not inside quotes)
- juxtaposition and ``AND`` mean and; ``OR`` means or; ``NOT`` or a leading ``-`` means not
- precedence: NOT binds tightest, then AND, then OR; parentheses group
- operators are upper-case; lower-case ``and``/``or``/``not`` are ordinary words

A query must contain a term that has to appear: ``-foo`` alone is refused, since it
would match nearly every article.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from forecasts.errors import BadInput

# Scripts written without spaces between words (or with particles glued to nouns):
# terms containing these match as substrings, not on word boundaries.
CJK_CHARS = (
    "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f"
)
CJK_RE = re.compile(f"[{CJK_CHARS}]")
_WORDCHAR_RE = re.compile(r"\w")
_OPERATORS = ("AND", "OR", "NOT")
_QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201c"}
_CLOSE_QUOTES = {'"', "\u201c", "\u201d"}


class QueryError(BadInput):
    """A news query that does not parse."""


def normalize_term(text: str) -> str:
    """How terms are compared: case-folded, whitespace collapsed."""
    return " ".join(text.casefold().split())


def is_cjk(term: str) -> bool:
    return CJK_RE.search(term) is not None


#: A prefix wildcard needs this many letters or digits before its ``*``: shorter stems
#: match too many unrelated words to be useful.
MIN_PREFIX = 3
WILDCARD = "*"
_STEM_RE = re.compile(r"[^\W_]+")


# ------------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Term:
    """A word, a phrase, or a prefix wildcard. ``text`` is normalized (see
    normalize_term); a prefix wildcard keeps its ``*`` (``двигател*``), so every term's
    text is distinct and names it in matched-term lists."""

    text: str
    phrase: bool = False  # written in quotes

    @property
    def prefix(self) -> bool:
        return is_prefix(self.text)

    def __str__(self) -> str:
        if self.prefix or (self.text.isalnum() and not self.phrase):
            return self.text
        return f'"{self.text}"'


def is_prefix(term_text: str) -> bool:
    """Whether a (normalized) term is a prefix wildcard. Only a wildcard ends in ``*``:
    the parser refuses a ``*`` anywhere else."""
    return term_text.endswith(WILDCARD)


def stem(term_text: str) -> str:
    """The word a prefix wildcard's matches start with; other terms unchanged."""
    return term_text.removesuffix(WILDCARD)


@dataclass(frozen=True)
class Not:
    child: Node

    def __str__(self) -> str:
        return f"NOT {_paren(self.child)}"


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " ".join(_paren(c) for c in self.children)


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(_paren(c) for c in self.children)


Node = Term | Not | And | Or


def _paren(n: Node) -> str:
    return f"({n})" if isinstance(n, And | Or) else str(n)


def terms(node: Node) -> Iterator[Term]:
    """Every term, in order of appearance (with repeats)."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, Not):
        yield from terms(node.child)
    else:
        for c in node.children:
            yield from terms(c)


def positive_terms(node: Node, negated: bool = False) -> list[str]:
    """Distinct terms that count for an article (not under an odd number of NOTs)."""
    out: dict[str, None] = {}

    def walk(n: Node, neg: bool) -> None:
        if isinstance(n, Term):
            if not neg:
                out.setdefault(n.text)
        elif isinstance(n, Not):
            walk(n.child, not neg)
        else:
            for c in n.children:
                walk(c, neg)

    walk(node, negated)
    return list(out)


def evaluate(node: Node, present: set[str]) -> bool:
    """Reference evaluation over a set of present (normalized) terms."""
    if isinstance(node, Term):
        return node.text in present
    if isinstance(node, Not):
        return not evaluate(node.child, present)
    if isinstance(node, And):
        return all(evaluate(c, present) for c in node.children)
    return any(evaluate(c, present) for c in node.children)


# ---------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Tok:
    kind: str  # term | phrase | op | ( | ) | -
    text: str
    pos: int


def _tokenize(q: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok(c, c, i))
            i += 1
        elif c in _QUOTES:
            end = i + 1
            while end < n and q[end] not in _CLOSE_QUOTES:
                end += 1
            if end >= n:
                raise QueryError(f"unterminated quote at position {i + 1} in news query {q!r}")
            toks.append(_Tok("phrase", q[i + 1 : end], i))
            i = end + 1
        elif c == "-" and i + 1 < n and not q[i + 1].isspace() and q[i + 1] != "-":
            toks.append(_Tok("-", c, i))
            i += 1
        else:
            end = i
            while end < n and not q[end].isspace() and q[end] not in '()"\u201c\u201d\u201e':
                end += 1
            word = q[i:end]
            toks.append(_Tok("op" if word in _OPERATORS else "term", word, i))
            i = end
    return toks


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.toks = _tokenize(query)
        self.i = 0

    def error(self, msg: str) -> QueryError:
        return QueryError(f"{msg} in news query {self.query!r}")

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node:
        if not self.toks:
            raise self.error("no terms")
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected {tok.text!r} at position {tok.pos + 1}")
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text == "OR":
            self.i += 1
            items.append(self.parse_and())
        return _make(Or, items)

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while (tok := self.peek()) is not None:
            if tok.kind == ")" or (tok.kind == "op" and tok.text == "OR"):
                break
            if tok.kind == "op" and tok.text == "AND":
                self.i += 1
            items.append(self.parse_unary())
        return _make(And, items)

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.error("a term is missing at the end")
        if tok.kind == "-" or (tok.kind == "op" and tok.text == "NOT"):
            self.i += 1
            return Not(self.parse_unary())
        if tok.kind == "op":
            raise self.error(f"{tok.text} at position {tok.pos + 1} needs a term before it")
        if tok.kind == ")":
            raise self.error(f"unexpected ')' at position {tok.pos + 1}")
        self.i += 1
        if tok.kind == "(":
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != ")":
                raise self.error(f"'(' at position {tok.pos + 1} is never closed")
            self.i += 1
            return node
        text = normalize_term(tok.text)
        if not text:
            raise self.error(f"empty phrase at position {tok.pos + 1}")
        if not _WORDCHAR_RE.search(text):
            raise self.error(f"{tok.text!r} has no letters or digits")
        if WILDCARD in text:
            self.check_wildcard(tok, text)
        return Term(text, phrase=tok.kind == "phrase" and " " in text)

    def check_wildcard(self, tok: _Tok, text: str) -> None:
        """A ``*`` is only allowed as a prefix wildcard: at the end of one plain word."""
        where = f"{tok.text!r} at position {tok.pos + 1}"
        if tok.kind == "phrase":
            raise self.error(f"{where}: a wildcard * works on one unquoted word, not inside quotes")
        word = stem(text)
        if WILDCARD in word:
            raise self.error(f"{where}: a wildcard * goes only at the end of a word")
        if not _STEM_RE.fullmatch(word):
            raise self.error(
                f"{where}: a wildcard * needs a plain word before it, without punctuation"
            )
        if is_cjk(word):
            raise self.error(
                f"{where}: Chinese, Japanese and Korean terms already match inside words; "
                "drop the *"
            )
        if len(word) < MIN_PREFIX:
            raise self.error(f"{where}: a wildcard * needs at least {MIN_PREFIX} letters before it")


def _make(cls: type[And] | type[Or], items: list[Node]) -> Node:
    flat: list[Node] = []
    for it in items:
        if isinstance(it, cls):
            flat.extend(it.children)
        else:
            flat.append(it)
    unique = list(dict.fromkeys(flat))
    return unique[0] if len(unique) == 1 else cls(tuple(unique))


def parse_query(query: str) -> Node:
    """Parse a news query. Raises QueryError (a BadInput) with the position of the problem."""
    node = _Parser(query).parse()
    if evaluate(node, set()):
        raise QueryError(
            f"news query {query!r} would match articles that contain none of its terms; "
            "it needs at least one term that must appear"
        )
    return node


def validate_query(query: str | None) -> str | None:
    """For input validation: the query unchanged when it parses (None stays None)."""
    if query is None or not query.strip():
        return None
    parse_query(query)
    return query.strip()


# ------------------------------------------------------------------- GDELT translation

GDELT_MIN_TERM = 3
_MAX_CLAUSES = 64
_GDELT_BARE = re.compile(r"^[a-z0-9]+$")

Literal = tuple[str, bool]  # (term, positive)


@dataclass(frozen=True)
class GdeltQuery:
    """A GDELT query string, or None when nothing searchable is left; ``dropped`` lists
    the terms GDELT cannot search (too short, non-Latin) or constructs it cannot express."""

    query: str | None
    dropped: tuple[str, ...] = ()


def gdelt_searchable(term: str) -> bool:
    """GDELT refuses keywords under 3 characters and only searches Latin-script text."""
    term = stem(term)
    if len(term.replace(" ", "")) < GDELT_MIN_TERM:
        return False
    return all(ord(c) < 0x250 or not c.isalpha() for c in term)


def _nnf(node: Node, neg: bool = False) -> Node:
    if isinstance(node, Term):
        return Not(node) if neg else node
    if isinstance(node, Not):
        return _nnf(node.child, not neg)
    kids = tuple(_nnf(c, neg) for c in node.children)
    if isinstance(node, And):
        return Or(kids) if neg else And(kids)
    return And(kids) if neg else Or(kids)


class _TooComplex(Exception):
    pass


def _cnf(node: Node) -> list[frozenset[Literal]]:
    """Clauses (ORs of literals) whose AND is ``node`` (which is in negation normal form)."""
    if isinstance(node, Term):
        return [frozenset({(node.text, True)})]
    if isinstance(node, Not):
        assert isinstance(node.child, Term)
        return [frozenset({(node.child.text, False)})]
    if isinstance(node, And):
        out: list[frozenset[Literal]] = []
        for c in node.children:
            out.extend(_cnf(c))
            if len(out) > _MAX_CLAUSES:
                raise _TooComplex
        return out
    acc: list[frozenset[Literal]] = [frozenset()]
    for c in node.children:
        acc = [a | b for a in acc for b in _cnf(c)]
        if len(acc) > _MAX_CLAUSES:
            raise _TooComplex
    return acc


def _render(term: str) -> str:
    # GDELT has no wildcards: a prefix wildcard is sent as its stem.
    term = stem(term)
    return term if _GDELT_BARE.match(term) else f'"{term}"'


def _render_or(lits: list[str]) -> str:
    if len(lits) == 1:
        return _render(lits[0])
    return "(" + " OR ".join(_render(t) for t in lits) + ")"


def to_gdelt(node: Node) -> GdeltQuery:
    """Translate to GDELT's syntax: phrases quoted, OR only inside parentheses (one level,
    no nesting), negation as ``-term``, a prefix wildcard as its stem (``missil*`` ->
    ``missil``: GDELT takes no wildcards).

    The query is brought to conjunctive normal form. Terms GDELT cannot search are removed
    from OR groups; a group left empty, a negated group, or a clause mixing negated and
    plain terms is dropped, which widens the GDELT query (local matching still applies the
    full query to the results). Too complex to normalize: an OR of all its terms.
    """
    dropped: dict[str, None] = {}
    try:
        clauses = _cnf(_nnf(node))
    except _TooComplex:
        pos = [t for t in positive_terms(node) if gdelt_searchable(t)]
        for t in positive_terms(node):
            if not gdelt_searchable(t):
                dropped.setdefault(t)
        return GdeltQuery(_render_or(pos) if pos else None, tuple(dropped))
    # Drop tautologies and duplicates; keep first-seen order.
    seen: dict[frozenset[Literal], None] = {}
    for cl in clauses:
        if any((t, not p) in cl for t, p in cl):
            continue
        seen.setdefault(cl)
    # Absorption: a clause that contains another clause adds nothing.
    kept = [c for c in seen if not any(o < c for o in seen)]
    pos_parts: list[str] = []
    neg_parts: list[str] = []
    order = {t.text: i for i, t in reversed(list(enumerate(terms(node))))}
    for cl in kept:
        lits = sorted(cl, key=lambda lit: order.get(lit[0], 0))
        if all(p for _, p in lits):
            ok = [t for t, _ in lits if gdelt_searchable(t)]
            for t, _ in lits:
                if not gdelt_searchable(t):
                    dropped.setdefault(t)
            if ok:
                pos_parts.append(_render_or(ok))
        elif len(lits) == 1:
            t = lits[0][0]
            if gdelt_searchable(t):
                neg_parts.append("-" + _render(t))
            else:
                dropped.setdefault(t)
        else:
            dropped.setdefault(" OR ".join(("" if p else "-") + t for t, p in lits))
    if not pos_parts:
        return GdeltQuery(None, tuple(dropped))
    return GdeltQuery(" ".join(dict.fromkeys(pos_parts + neg_parts)), tuple(dropped))
