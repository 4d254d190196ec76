"""Match articles against every question's news query at once.

All queries are compiled into one term index (every distinct term of every query, plus
the questions' resolution terms). Each article is scanned once (title, then summary) to
find which indexed terms occur in it:

- a single-word Latin term (``\\w+``) is a set lookup among the article's words, which
  is exactly a match on word boundaries;
- any other Latin term (a phrase, or a word with punctuation like ``J-20``) is looked up
  by its longest word, and only then checked with its own word-boundary regex;
- a CJK term (Chinese, Japanese, Korean) matches as a substring; it is looked up by its
  first CJK character and checked with ``in``.

Term presence goes into bitsets (one packed numpy row per term, one bit per article).
Each question's boolean expression is then evaluated with numpy bitwise operations over
all articles at once: work is O(articles + questions x terms), never questions x articles
in Python.

Scoring (see docs/news.md): an article's weight for a question is 2 for each of the
question's (positive) terms found in the title and 1 for each found only in the summary.
The score is that weight times the breadth penalty ln(1 + Q/m) / ln(1 + Q), where Q is the
number of questions compiled and m the number of them the article matches.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from forecasts.news.query import (
    CJK_CHARS,
    And,
    Node,
    Not,
    Or,
    Term,
    is_cjk,
    normalize_term,
    parse_query,
    positive_terms,
)

_WORD_RE = re.compile(r"\w+")
_CJK_RUN_RE = re.compile(f"[{CJK_CHARS}]+")

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]


def breadth_penalty(matched: npt.ArrayLike, total: int) -> npt.NDArray[np.float64]:
    """IDF-like discount: 1.0 for an article that matches one question, falling towards
    ln 2 / ln(1 + Q) for one that matches all Q of them."""
    m = np.maximum(np.asarray(matched, dtype=np.float64), 1.0)
    q = max(int(total), 1)
    return np.log1p(q / m) / math.log1p(q)


def _term_regex(term: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(w) for w in term.split(" "))
    return re.compile(r"(?<!\w)" + body + r"(?!\w)")


@dataclass
class CompiledQuestion:
    question_id: str
    query: Node
    positive: list[int]  # term ids that count towards the score
    resolution: list[int]  # resolution term ids


@dataclass
class Matches:
    """The result of one matching pass. Arrays are parallel, one entry per match,
    sorted by question then article."""

    question_ids: list[str]  # the compiled questions, in order
    question: I64  # index into question_ids
    doc: I64  # index into the documents given
    weight: npt.NDArray[np.float64]
    score: npt.NDArray[np.float64]
    possible_resolution: npt.NDArray[np.bool_]
    doc_terms: list[frozenset[int]] = field(repr=False)
    term_text: list[str] = field(repr=False)
    compiled: list[CompiledQuestion] = field(repr=False)

    def __len__(self) -> int:
        return len(self.doc)

    def terms(self, i: int) -> list[str]:
        """The question's query terms found in the article of match ``i``."""
        cq = self.compiled[int(self.question[i])]
        present = self.doc_terms[int(self.doc[i])]
        return [self.term_text[t] for t in cq.positive if t in present]

    def resolution_terms(self, i: int) -> list[str]:
        cq = self.compiled[int(self.question[i])]
        present = self.doc_terms[int(self.doc[i])]
        return [self.term_text[t] for t in cq.resolution if t in present]

    def for_question(self, question_id: str) -> I64:
        """Indexes of the documents matched to one question."""
        try:
            qi = self.question_ids.index(question_id)
        except ValueError:
            return np.zeros(0, dtype=np.int64)
        return self.doc[self.question == qi]


class Matcher:
    """All questions' queries compiled into one index. Build once, match many batches."""

    def __init__(
        self,
        queries: Mapping[str, str | Node],
        resolution_terms: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.term_ids: dict[str, int] = {}
        self.term_text: list[str] = []
        self.questions: list[CompiledQuestion] = []
        resolution_terms = resolution_terms or {}
        for qid, q in queries.items():
            node = parse_query(q) if isinstance(q, str) else q
            node = self._intern(node)
            pos = [self.term_ids[t] for t in positive_terms(node)]
            res: list[int] = []
            for phrase in resolution_terms.get(qid, ()):
                text = normalize_term(phrase)
                if text and re.search(r"\w", text):
                    res.append(self._term_id(text))
            self.questions.append(CompiledQuestion(qid, node, pos, list(dict.fromkeys(res))))
        self.question_ids = [cq.question_id for cq in self.questions]
        self._build_index()

    # ------------------------------------------------------------------ compile

    def _term_id(self, text: str) -> int:
        tid = self.term_ids.get(text)
        if tid is None:
            tid = self.term_ids[text] = len(self.term_text)
            self.term_text.append(text)
        return tid

    def _intern(self, node: Node) -> Node:
        if isinstance(node, Term):
            self._term_id(node.text)
            return node
        if isinstance(node, Not):
            return Not(self._intern(node.child))
        kids = tuple(self._intern(c) for c in node.children)
        return And(kids) if isinstance(node, And) else Or(kids)

    def _build_index(self) -> None:
        self.simple: dict[str, int] = {}
        self.complex: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        self.cjk: dict[str, list[tuple[int, str]]] = {}
        for tid, text in enumerate(self.term_text):
            if is_cjk(text):
                first = _CJK_RUN_RE.search(text)
                assert first is not None
                self.cjk.setdefault(first.group()[0], []).append((tid, text))
            elif _WORD_RE.fullmatch(text):
                self.simple[text] = tid
            else:
                words = _WORD_RE.findall(text)
                key = max(words, key=len)
                self.complex.setdefault(key, []).append((tid, _term_regex(text)))
        self._simple_keys = frozenset(self.simple)
        self._complex_keys = frozenset(self.complex)
        self._cjk_keys = frozenset(self.cjk)

    # -------------------------------------------------------------------- scan

    def terms_in(self, text: str) -> set[int]:
        """Ids of the indexed terms that occur in ``text`` (any case)."""
        if not text:
            return set()
        text = text.casefold()
        words = set(_WORD_RE.findall(text))
        simple = self.simple
        found = {simple[w] for w in words & self._simple_keys}
        for key in words & self._complex_keys:
            for tid, rx in self.complex[key]:
                if rx.search(text):
                    found.add(tid)
        if self._cjk_keys:
            runs = _CJK_RUN_RE.findall(text)
            if runs:
                for ch in set("".join(runs)) & self._cjk_keys:
                    for tid, term in self.cjk[ch]:
                        if term in text:
                            found.add(tid)
        return found

    # ------------------------------------------------------------------- match

    def match(
        self,
        docs: Sequence[tuple[str, str | None]],
        *,
        forced: Iterable[tuple[int, str]] = (),
    ) -> Matches:
        """Match (title, summary) pairs against every compiled question.

        ``forced`` lists (document index, question id) pairs that match regardless of the
        local query (the source already matched them, e.g. GDELT on the full text);
        their weight is at least 1.
        """
        n = len(docs)
        n_terms = len(self.term_text)
        nbytes = (n + 7) // 8
        title_bits = np.zeros((n_terms, nbytes), dtype=np.uint8)
        any_bits = np.zeros((n_terms, nbytes), dtype=np.uint8)
        doc_terms: list[frozenset[int]] = []
        t_rows: list[int] = []
        t_cols: list[int] = []
        a_rows: list[int] = []
        a_cols: list[int] = []
        for d, (title, summary) in enumerate(docs):
            in_title = self.terms_in(title)
            in_any = in_title | self.terms_in(summary or "")
            doc_terms.append(frozenset(in_any))
            if in_title:
                t_rows.extend(in_title)
                t_cols.extend([d] * len(in_title))
            if in_any:
                a_rows.extend(in_any)
                a_cols.extend([d] * len(in_any))
        _set_bits(title_bits, t_rows, t_cols)
        _set_bits(any_bits, a_rows, a_cols)
        valid = np.zeros(nbytes, dtype=np.uint8)
        if n:
            valid[:] = 0xFF
            if n % 8:
                valid[-1] = (1 << (n % 8)) - 1

        forced_by_q: dict[int, list[int]] = {}
        qindex = {qid: i for i, qid in enumerate(self.question_ids)}
        for d, qid in forced:
            qi = qindex.get(qid)
            if qi is not None and 0 <= d < n:
                forced_by_q.setdefault(qi, []).append(d)

        q_parts: list[I64] = []
        d_parts: list[I64] = []
        w_parts: list[npt.NDArray[np.float64]] = []
        r_parts: list[npt.NDArray[np.bool_]] = []
        for qi, cq in enumerate(self.questions):
            hits = _eval(cq.query, any_bits, self.term_ids, valid)
            if qi in forced_by_q:
                fb = np.zeros(nbytes, dtype=np.uint8)
                _set_bits(fb[None, :], [0] * len(forced_by_q[qi]), forced_by_q[qi])
                hits = hits | fb
            if not hits.any():
                continue
            ds = np.flatnonzero(np.unpackbits(hits, bitorder="little", count=n)).astype(np.int64)
            weight = np.zeros(len(ds), dtype=np.float64)
            for tid in cq.positive:
                t = _bits_at(title_bits[tid], ds)
                a = _bits_at(any_bits[tid], ds)
                weight += np.where(t, 2.0, np.where(a, 1.0, 0.0))
            np.maximum(weight, 1.0, out=weight)
            res = np.zeros(len(ds), dtype=bool)
            for tid in cq.resolution:
                res |= _bits_at(any_bits[tid], ds)
            q_parts.append(np.full(len(ds), qi, dtype=np.int64))
            d_parts.append(ds)
            w_parts.append(weight)
            r_parts.append(res)

        if q_parts:
            question = np.concatenate(q_parts)
            doc = np.concatenate(d_parts)
            weight = np.concatenate(w_parts)
            possible = np.concatenate(r_parts)
        else:
            question = np.zeros(0, dtype=np.int64)
            doc = np.zeros(0, dtype=np.int64)
            weight = np.zeros(0, dtype=np.float64)
            possible = np.zeros(0, dtype=bool)
        breadth = np.bincount(doc, minlength=n) if n else np.zeros(0, dtype=np.int64)
        score = np.round(weight * breadth_penalty(breadth[doc], len(self.questions)), 4)
        return Matches(
            question_ids=self.question_ids,
            question=question,
            doc=doc,
            weight=weight,
            score=score,
            possible_resolution=possible,
            doc_terms=doc_terms,
            term_text=self.term_text,
            compiled=self.questions,
        )


def _set_bits(bits: U8, rows: Sequence[int], cols: Sequence[int]) -> None:
    if not len(rows):
        return
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    flat = r * bits.shape[1] + (c >> 3)
    view = bits.reshape(-1)
    for bit in range(8):
        sel = (c & 7) == bit
        if sel.any():
            view[flat[sel]] |= np.uint8(1 << bit)


def _bits_at(row: U8, idx: I64) -> npt.NDArray[np.bool_]:
    return ((row[idx >> 3] >> (idx & 7).astype(np.uint8)) & 1).astype(bool)


def _eval(node: Node, bits: U8, ids: Mapping[str, int], valid: U8) -> U8:
    if isinstance(node, Term):
        return bits[ids[node.text]]
    if isinstance(node, Not):
        return np.bitwise_and(np.invert(_eval(node.child, bits, ids, valid)), valid)
    parts = [_eval(c, bits, ids, valid) for c in node.children]
    op = np.bitwise_and if isinstance(node, And) else np.bitwise_or
    out = parts[0].copy()
    for p in parts[1:]:
        op(out, p, out=out)
    return out


def naive_match(
    queries: Mapping[str, str], docs: Sequence[tuple[str, str | None]]
) -> set[tuple[str, int]]:
    """Reference implementation for tests and the benchmark: one regex per term, a Python
    loop over question x article. Returns (question id, document index) pairs."""
    from forecasts.news.query import evaluate, terms

    compiled: list[tuple[str, Node, dict[str, re.Pattern[str] | None]]] = []
    for qid, q in queries.items():
        node = parse_query(q)
        pats: dict[str, re.Pattern[str] | None] = {}
        for t in terms(node):
            pats[t.text] = None if is_cjk(t.text) else _term_regex(t.text)
        compiled.append((qid, node, pats))
    texts = [((t or "").casefold(), (s or "").casefold()) for t, s in docs]
    out: set[tuple[str, int]] = set()
    for qid, node, pats in compiled:
        for d, pair in enumerate(texts):
            present = {
                t
                for t, rx in pats.items()
                for text in pair
                if (t in text if rx is None else rx.search(text))
            }
            if evaluate(node, present):
                out.add((qid, d))
    return out
