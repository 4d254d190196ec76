"""Match articles against every question's news query at once.

All queries are compiled into one term index (every distinct term of every query, plus
the questions' resolution terms). Each article is scanned once (title, then summary) to
find which indexed terms occur in it:

- a single-word Latin term (``\\w+``) is a set lookup among the article's words, which
  is exactly a match on word boundaries;
- a prefix wildcard (``двигател*``) matches the article's words that start with its
  stem; each distinct word is checked against the stems once per Matcher and then joins
  the same lookup;
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
number of questions compiled and m the number of them the article matches. A weak match
(GDELT returned the article, the query does not match it) weighs 0.5 and takes the
penalty of m = Q, so it scores below every full match.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat

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
    is_prefix,
    normalize_term,
    parse_query,
    positive_terms,
    stem,
)

_WORD_RE = re.compile(r"\w+")
_CJK_RUN_RE = re.compile(f"[{CJK_CHARS}]+")
_SEP = "\x00"
_TOKEN_RE = re.compile(r"\w+|\x00")
_SCAN_CHUNK = 8192
_ASCII_NONWORD = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not (c.isalnum() or c in "_" + _SEP)}
)
_CJK_RE = re.compile(f"[{CJK_CHARS}]")

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]
_EMPTY_I64 = np.zeros(0, dtype=np.int64)


#: The weight of a weak match: half the least a full match can have.
WEAK_WEIGHT = 0.5


def breadth_penalty(matched: npt.ArrayLike, total: int) -> npt.NDArray[np.float64]:
    """IDF-like discount: 1.0 for an article that matches one question, falling towards
    ln 2 / ln(1 + Q) for one that matches all Q of them."""
    m = np.maximum(np.asarray(matched, dtype=np.float64), 1.0)
    q = max(int(total), 1)
    return np.log1p(q / m) / math.log1p(q)


def _term_regex(term: str) -> re.Pattern[str]:
    if is_prefix(term):
        return re.compile(r"(?<!\w)" + re.escape(stem(term)))
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
    #: Only a source matched it, not the query (see Matcher.match's ``weak``).
    weak: npt.NDArray[np.bool_]
    presence: I64 = field(repr=False)  # sorted document * n_terms + term
    n_terms: int = field(repr=False)
    term_text: list[str] = field(repr=False)
    compiled: list[CompiledQuestion] = field(repr=False)

    def __len__(self) -> int:
        return len(self.doc)

    def _present(self, doc: int, tids: list[int]) -> list[str]:
        if not tids:
            return []
        keys = doc * self.n_terms + np.asarray(tids, dtype=np.int64)
        pos = np.searchsorted(self.presence, keys)
        pos = np.minimum(pos, max(len(self.presence) - 1, 0))
        ok = self.presence[pos] == keys if len(self.presence) else np.zeros(len(tids), bool)
        return [self.term_text[t] for t, hit in zip(tids, ok, strict=True) if hit]

    def term_lists(self) -> tuple[list[list[str]], list[list[str]]]:
        """For every match, in order: the query terms and the resolution terms found.
        (Vectorised per question; the per-match ``terms(i)`` is for a few lookups.)"""
        terms: list[list[str]] = []
        res: list[list[str]] = []
        if not len(self.doc):
            return terms, res
        starts = np.flatnonzero(np.r_[True, self.question[1:] != self.question[:-1]])
        ends = np.r_[starts[1:], len(self.question)]
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            cq = self.compiled[int(self.question[lo])]
            docs = self.doc[lo:hi]
            for tids, out in ((cq.positive, terms), (cq.resolution, res)):
                if not tids or not len(self.presence):
                    out.extend([] for _ in range(hi - lo))
                    continue
                names = [self.term_text[t] for t in tids]
                keys = docs[None, :] * self.n_terms + np.asarray(tids, dtype=np.int64)[:, None]
                pos = np.minimum(np.searchsorted(self.presence, keys), len(self.presence) - 1)
                present = (self.presence[pos] == keys).T.tolist()
                out.extend([n for n, v in zip(names, row, strict=True) if v] for row in present)
        return terms, res

    def terms(self, i: int) -> list[str]:
        """The question's query terms found in the article of match ``i``."""
        cq = self.compiled[int(self.question[i])]
        return self._present(int(self.doc[i]), cq.positive)

    def resolution_terms(self, i: int) -> list[str]:
        cq = self.compiled[int(self.question[i])]
        return self._present(int(self.doc[i]), cq.resolution)


def _joined_tokens(segs: list[str], is_ascii: bool) -> tuple[str, str, list[str]]:
    """The segments joined by a separator (itself a token), lower-cased, and its tokens.

    For ASCII, lower-casing is case-folding and \\w is [A-Za-z0-9_]: mapping every other
    character to a space and splitting is much faster than a regex."""
    sep = " " + _SEP + " " if is_ascii else _SEP
    big = sep.join(segs)
    if big.count(_SEP) != len(segs) - 1:
        big = sep.join(x.replace(_SEP, " ") for x in segs)
    if is_ascii:
        big = big.lower()
        return big, sep, big.translate(_ASCII_NONWORD).split()
    big = big.casefold()
    return big, sep, _TOKEN_RE.findall(big)


@dataclass(frozen=True)
class _Presence:
    """Term presence over a batch of documents: (document, term) keys, sorted, and one
    bitset of documents per term, anywhere and in the title."""

    n_docs: int
    n_terms: int
    keys: I64
    anywhere: npt.NDArray[np.uint8]
    in_title: npt.NDArray[np.uint8]
    #: The bits of real documents (the last byte may be part padding).
    valid: npt.NDArray[np.uint8]


@dataclass(frozen=True)
class _QuestionHits:
    """Matches as parallel arrays: question index, document, weight, possible resolution,
    weak (a GDELT result the query does not match)."""

    question: I64
    doc: I64
    weight: npt.NDArray[np.float64]
    possible: BoolArr
    weak: BoolArr

    @classmethod
    def concatenate(cls, parts: Sequence[_QuestionHits]) -> _QuestionHits:
        if not parts:
            return cls(
                _EMPTY_I64,
                _EMPTY_I64,
                np.zeros(0, dtype=np.float64),
                np.zeros(0, dtype=bool),
                np.zeros(0, dtype=bool),
            )
        return cls(
            np.concatenate([p.question for p in parts]),
            np.concatenate([p.doc for p in parts]),
            np.concatenate([p.weight for p in parts]),
            np.concatenate([p.possible for p in parts]),
            np.concatenate([p.weak for p in parts]),
        )


def _scores(hits: _QuestionHits, *, n_docs: int, n_questions: int) -> npt.NDArray[np.float64]:
    """Weight times the breadth penalty of how many questions the article fully matches.
    A weak match takes the penalty of an article matching every question, so its score is
    below that of any full match (weight >= 1, penalty >= that)."""
    breadth = np.bincount(hits.doc[~hits.weak], minlength=n_docs) if n_docs else _EMPTY_I64
    penalty = breadth_penalty(breadth[hits.doc], n_questions)
    penalty[hits.weak] = breadth_penalty([n_questions], n_questions)[0]
    return np.round(hits.weight * penalty, 4)


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
        # Every word that matters gets a word id: single-word terms and the words of
        # multi-word/punctuated terms, and later any word seen in an article that starts
        # with a wildcard's stem. Text is tokenized once; words map to ids in C.
        self._word_code: dict[str, int] = {_SEP: -2}
        self._word_terms: list[list[int]] = []  # word id -> single-word term ids it is
        self._complex: list[tuple[int, list[int], re.Pattern[str]]] = []
        self._cjk: dict[str, list[tuple[int, str]]] = {}
        self._stems: dict[str, int] = {}  # prefix wildcard stem -> term id

        for tid, text in enumerate(self.term_text):
            if is_cjk(text):
                first = _CJK_RUN_RE.search(text)
                assert first is not None
                self._cjk.setdefault(first.group()[0], []).append((tid, text))
            elif is_prefix(text):
                self._stems[stem(text)] = tid
            elif _WORD_RE.fullmatch(text):
                self._word_terms[self._word_id(text)].append(tid)
            else:
                wids = list(dict.fromkeys(self._word_id(w) for w in _WORD_RE.findall(text)))
                self._complex.append((tid, wids, _term_regex(text)))
        self._cjk_keys = frozenset(self._cjk)
        self._stem_lengths = sorted({len(x) for x in self._stems})
        # Words already classified against the stems (all words with an id among them).
        self._checked: set[str] = set(self._word_code)
        for word, wid in self._word_code.items():
            if wid >= 0:
                self._word_terms[wid].extend(self._prefix_terms(word))
        self._pack_word_terms()

    def _word_id(self, word: str) -> int:
        wid = self._word_code.get(word)
        if wid is None:
            wid = self._word_code[word] = len(self._word_terms)
            self._word_terms.append([])
        return wid

    def _prefix_terms(self, word: str) -> list[int]:
        """The prefix wildcards that ``word`` (case-folded) matches."""
        stems = self._stems
        return [stems[word[:n]] for n in self._stem_lengths if n <= len(word) and word[:n] in stems]

    def _learn_words(self, tokens: list[str]) -> None:
        """Give an id to each word not seen before that a prefix wildcard matches (a
        Python step per distinct new word, not per token)."""
        fresh = set(tokens) - self._checked
        if not fresh:
            return
        self._checked |= fresh
        added = False
        for word in fresh:
            tids = self._prefix_terms(word)
            if tids:
                self._word_terms[self._word_id(word)].extend(tids)
                added = True
        if added:
            self._pack_word_terms()

    def _pack_word_terms(self) -> None:
        """word id -> term ids as flat arrays (start, count, terms) for numpy lookups."""
        counts = [len(t) for t in self._word_terms]
        # Without overlapping wildcards a word is at most one term: a plain lookup.
        self._word_single: I64 | None = None
        if max(counts, default=0) <= 1:
            self._word_single = np.asarray(
                [t[0] if t else -1 for t in self._word_terms], dtype=np.int64
            )
        self._wt_count = np.asarray(counts, dtype=np.int64)
        self._wt_start = np.cumsum(self._wt_count) - self._wt_count
        self._wt_terms = np.asarray([t for ts in self._word_terms for t in ts], dtype=np.int64)

    # -------------------------------------------------------------------- scan

    def scan(self, docs: Sequence[tuple[str, str | None]]) -> tuple[I64, I64, BoolArr]:
        """Which indexed terms occur in which documents: parallel arrays (document, term,
        found in the title), one entry per (document, term, part) found (a prefix
        wildcard matched by two words of one part appears twice)."""
        parts_d: list[I64] = []
        parts_t: list[I64] = []
        parts_title: list[BoolArr] = []
        for start in range(0, len(docs), _SCAN_CHUNK):
            d, t, title = self._scan_chunk(docs[start : start + _SCAN_CHUNK])
            parts_d.append(d + start)
            parts_t.append(t)
            parts_title.append(title)
        if not parts_d:
            return _EMPTY_I64, _EMPTY_I64, np.zeros(0, dtype=bool)
        return np.concatenate(parts_d), np.concatenate(parts_t), np.concatenate(parts_title)

    def _scan_chunk(self, docs: Sequence[tuple[str, str | None]]) -> tuple[I64, I64, BoolArr]:
        # Segments 2i and 2i+1 are document i's title and summary. ASCII segments (most
        # of them) take a fast path; the rest are case-folded and tokenized by regex.
        segs: list[str] = []
        for title, summary in docs:
            segs.append(title or "")
            segs.append(summary or "")
        ascii_idx = [i for i, x in enumerate(segs) if x.isascii()]
        other_idx = (
            [i for i, x in enumerate(segs) if not x.isascii()] if len(ascii_idx) < len(segs) else []
        )
        found_s: list[I64] = []
        found_t: list[I64] = []
        for idx, is_ascii in ((ascii_idx, True), (other_idx, False)):
            if idx:
                local, term = self._scan_group([segs[i] for i in idx], is_ascii)
                found_s.append(np.asarray(idx, dtype=np.int64)[local])
                found_t.append(term)
        if not found_s:
            return _EMPTY_I64, _EMPTY_I64, np.zeros(0, dtype=bool)
        seg = np.concatenate(found_s)
        term = np.concatenate(found_t)
        return seg // 2, term, (seg % 2) == 0

    def _scan_group(self, segs: list[str], is_ascii: bool) -> tuple[I64, I64]:
        """(segment, term) pairs for a list of segments, all ASCII or not."""
        big, sep, tokens = _joined_tokens(segs, is_ascii)
        if self._stems:
            self._learn_words(tokens)
        codes = np.fromiter(
            map(self._word_code.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens)
        )
        seg_of = np.cumsum(codes == -2)
        keep = codes >= 0
        n_words = max(len(self._word_terms), 1)
        pair = _unique(seg_of[keep] * n_words + codes[keep])
        seg_u, word_u = pair // n_words, pair % n_words
        found = [self._single_word_terms(seg_u, word_u)]
        texts: list[str] | None = None
        if self._complex and len(word_u):
            texts = big.split(sep)
            found += self._complex_terms(seg_u, word_u, n_words, texts)
        if self._cjk_keys and not is_ascii and _CJK_RE.search(big):
            found.append(self._cjk_terms(texts if texts is not None else big.split(sep)))
        return np.concatenate([s for s, _ in found]), np.concatenate([t for _, t in found])

    def _single_word_terms(self, seg_u: I64, word_u: I64) -> tuple[I64, I64]:
        """Each (segment, word) pair as one (segment, term) pair per single-word term the
        word is: its own term and the prefix wildcards it matches."""
        if self._word_single is not None:
            single = self._word_single[word_u]
            sel = single >= 0
            return seg_u[sel], single[sel]
        count = self._wt_count[word_u]
        n_found = int(count.sum())
        seg_rep = np.repeat(seg_u, count)
        first = np.repeat(self._wt_start[word_u] - (np.cumsum(count) - count), count)
        return seg_rep, self._wt_terms[first + np.arange(n_found)]

    def _complex_terms(
        self, seg_u: I64, word_u: I64, n_words: int, texts: list[str]
    ) -> list[tuple[I64, I64]]:
        """Phrases and other multi-word terms: only segments that contain every word of a
        term run its regex."""
        order = np.argsort(word_u, kind="stable")
        by_word = seg_u[order]
        bounds = np.searchsorted(word_u[order], np.arange(n_words + 1))
        found: list[tuple[I64, I64]] = []
        for tid, wids, rx in self._complex:
            cand = by_word[bounds[wids[0]] : bounds[wids[0] + 1]]
            for w in wids[1:]:
                if not len(cand):
                    break
                cand = np.intersect1d(cand, by_word[bounds[w] : bounds[w + 1]], assume_unique=True)
            hits = [int(i) for i in cand if rx.search(texts[int(i)])]
            if hits:
                found.append(
                    (np.asarray(hits, dtype=np.int64), np.full(len(hits), tid, dtype=np.int64))
                )
        return found

    def _cjk_terms(self, texts: list[str]) -> tuple[I64, I64]:
        """Chinese, Japanese and Korean terms, matched as substrings (no word boundaries)."""
        hs: list[int] = []
        ht: list[int] = []
        for i, text in enumerate(texts):
            runs = _CJK_RUN_RE.findall(text)
            if not runs:
                continue
            for ch in set("".join(runs)) & self._cjk_keys:
                for tid, term in self._cjk[ch]:
                    if term in text:
                        hs.append(i)
                        ht.append(tid)
        return np.asarray(hs, dtype=np.int64), np.asarray(ht, dtype=np.int64)

    # ------------------------------------------------------------------- match

    def match(
        self,
        docs: Sequence[tuple[str, str | None]],
        *,
        forced: Iterable[tuple[int, str]] = (),
        weak: Iterable[tuple[int, str]] = (),
    ) -> Matches:
        """Match (title, summary) pairs against every compiled question.

        ``forced`` lists (document index, question id) pairs that match regardless of the
        local query (a search feed returned them for the question); their weight is at
        least 1. ``weak`` lists pairs a source returned for the question without the
        text to check them (GDELT, which searches full text but gives titles): a pair
        the query matches is a full match; any other is a weak match, with weight
        WEAK_WEIGHT, no possible resolution, a score below every full match's, and not
        counted in the breadth penalty of the article's full matches.
        """
        n = len(docs)
        presence = self._presence(docs)
        forced_by_q = self._by_question(forced, n)
        weak_by_q = self._by_question(weak, n)
        found = [
            self._match_question(qi, cq, presence, forced_by_q.get(qi), weak_by_q.get(qi))
            for qi, cq in enumerate(self.questions)
        ]
        hits = _QuestionHits.concatenate([f for f in found if f is not None])
        return Matches(
            question_ids=self.question_ids,
            question=hits.question,
            doc=hits.doc,
            weight=hits.weight,
            score=_scores(hits, n_docs=n, n_questions=len(self.questions)),
            possible_resolution=hits.possible,
            weak=hits.weak,
            presence=presence.keys,
            n_terms=presence.n_terms,
            term_text=self.term_text,
            compiled=self.questions,
        )

    def _presence(self, docs: Sequence[tuple[str, str | None]]) -> _Presence:
        """Which terms each document holds, anywhere and in its title, as bitsets."""
        n = len(docs)
        n_terms = max(len(self.term_text), 1)
        d, t, in_title = self.scan(docs)
        any_keys = _unique(d * n_terms + t)  # sorted (document, term) presence
        title_keys = _unique(d[in_title] * n_terms + t[in_title])
        valid = np.zeros((n + 7) // 8, dtype=np.uint8)
        if n:
            valid[:] = 0xFF
            if n % 8:
                valid[-1] = (1 << (n % 8)) - 1
        return _Presence(
            n_docs=n,
            n_terms=n_terms,
            keys=any_keys,
            anywhere=_bitsets(any_keys // n_terms, any_keys % n_terms, n_terms, n),
            in_title=_bitsets(title_keys // n_terms, title_keys % n_terms, n_terms, n),
            valid=valid,
        )

    def _match_question(
        self,
        qi: int,
        cq: CompiledQuestion,
        presence: _Presence,
        forced: list[int] | None,
        weak: list[int] | None,
    ) -> _QuestionHits | None:
        """One question's matches: its query over the documents, plus the forced ones,
        plus the weak ones its query does not match. Each with its weight and flag."""
        n = presence.n_docs
        hits = _eval(cq.query, presence.anywhere, self.term_ids, presence.valid)
        if forced:
            hits = hits | _single_bits(forced, n)
        weak_bits = None
        if weak:
            weak_bits = np.bitwise_and(_single_bits(weak, n), np.invert(hits))
            hits = hits | weak_bits
        if not hits.any():
            return None
        ds = np.flatnonzero(np.unpackbits(hits, bitorder="little", count=n)).astype(np.int64)
        is_weak = np.zeros(len(ds), dtype=bool) if weak_bits is None else _bits_at(weak_bits, ds)
        # Each positive term counts 2 in the title, 1 elsewhere; a match weighs at least 1.
        weight = np.zeros(len(ds), dtype=np.float64)
        for tid in cq.positive:
            in_t = _bits_at(presence.in_title[tid], ds)
            in_a = _bits_at(presence.anywhere[tid], ds)
            weight += np.where(in_t, 2.0, np.where(in_a, 1.0, 0.0))
        np.maximum(weight, 1.0, out=weight)
        weight[is_weak] = WEAK_WEIGHT
        possible = np.zeros(len(ds), dtype=bool)
        for tid in cq.resolution:
            possible |= _bits_at(presence.anywhere[tid], ds)
        possible &= ~is_weak
        return _QuestionHits(np.full(len(ds), qi, dtype=np.int64), ds, weight, possible, is_weak)

    def _by_question(self, pairs: Iterable[tuple[int, str]], n: int) -> dict[int, list[int]]:
        """(document, question id) pairs as documents per compiled question index."""
        qindex = {qid: i for i, qid in enumerate(self.question_ids)}
        out: dict[int, list[int]] = {}
        for doc, qid in pairs:
            qi = qindex.get(qid)
            if qi is not None and 0 <= doc < n:
                out.setdefault(qi, []).append(doc)
        return out


_CHUNK = 1 << 14


def _bitsets(cols: I64, rows: I64, n_terms: int, n: int) -> U8:
    """Packed presence bits from (document, term) pairs sorted by document:
    row = term, bit d (little-endian within bytes) = document d."""
    out = np.zeros((n_terms, (n + 7) // 8), dtype=np.uint8)
    # Dense booleans one chunk of documents at a time, packed into their byte columns.
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        lo, hi = np.searchsorted(cols, [start, stop])
        dense = np.zeros((n_terms, stop - start), dtype=bool)
        dense[rows[lo:hi], cols[lo:hi] - start] = True
        out[:, start // 8 : (stop + 7) // 8] = np.packbits(dense, axis=1, bitorder="little")
    return out


def _unique(a: I64) -> I64:
    """Sorted distinct values (sort-based: numpy's hash-based unique is slow here)."""
    a = np.sort(a)
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _single_bits(docs: Sequence[int], n: int) -> U8:
    dense = np.zeros(n, dtype=bool)
    dense[np.asarray(docs, dtype=np.int64)] = True
    return np.packbits(dense, bitorder="little")


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
