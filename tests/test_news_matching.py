"""Matching all queries at once: same answers as the naive loop, CJK, scoring."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts.news.matching import Matcher, breadth_penalty, naive_match


def pairs(m) -> set[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return {(m.question_ids[int(q)], int(d)) for q, d in zip(m.question, m.doc, strict=True)}


def test_word_boundaries_and_case() -> None:
    m = Matcher({"q": "missile"})
    docs = [
        ("New MISSILE unveiled", None),
        ("missiles galore", None),
        ("anti-missile shield", None),
    ]
    assert pairs(m.match(docs)) == {("q", 0), ("q", 2)}


def test_phrases_and_punctuated_terms() -> None:
    m = Matcher({"q": '"first flight" OR J-20 OR "C++"'})
    docs = [
        ("The first   flight of the prototype", None),  # whitespace inside a phrase
        ("first-flight tomorrow", None),  # a hyphen is not a space
        ("Chengdu J-20 seen", None),
        ("J-20s seen", None),  # no stemming
        ("xJ-20", None),
        ("Learn C++ now", None),
        ("firstflight", None),
    ]
    assert pairs(m.match(docs)) == {("q", 0), ("q", 2), ("q", 5)}


def test_cjk_substrings() -> None:
    m = Matcher({"zh": "歼-20 OR 高超音速", "ja": "極超音速", "ko": "극초음속"})
    docs = [
        ("中国歼-20战斗机亮相", None),
        ("俄罗斯高超音速导弹", None),
        ("ロシアの極超音速ミサイル", None),
        ("러시아 극초음속미사일", None),
        ("nothing here", "歼20"),
    ]
    assert pairs(m.match(docs)) == {("zh", 0), ("zh", 1), ("ja", 2), ("ko", 3)}


def test_summary_counts_and_title_weighs_double() -> None:
    m = Matcher({"q": "hypersonic glide"})
    res = m.match([("Hypersonic glide vehicle", None), ("Hypersonic news", "a glide test")])
    assert pairs(res) == {("q", 0), ("q", 1)}
    assert list(res.weight) == [4.0, 3.0]
    assert res.terms(0) == ["hypersonic", "glide"]


def test_not_and_boolean() -> None:
    m = Matcher({"q": "(russia OR china) submarine NOT exercise"})
    docs = [
        ("Russia submarine deal", None),
        ("China submarine exercise", None),
        ("Submarine", None),
        ("China", "new submarine"),
    ]
    assert pairs(m.match(docs)) == {("q", 0), ("q", 3)}


def test_resolution_terms_flag_only_with_a_match() -> None:
    m = Matcher({"q": "J-36"}, {"q": ["first flight", "maiden flight"]})
    docs = [
        ("J-36 makes first flight", None),
        ("J-36 spotted", "no flight yet"),
        ("Another jet's first flight", None),
    ]
    res = m.match(docs)
    assert pairs(res) == {("q", 0), ("q", 1)}
    flags = {int(d): bool(p) for d, p in zip(res.doc, res.possible_resolution, strict=True)}
    assert flags == {0: True, 1: False}
    assert res.resolution_terms(0) == ["first flight"]


def test_breadth_penalty() -> None:
    assert breadth_penalty([1], 10)[0] == pytest.approx(1.0)
    assert breadth_penalty([10], 10)[0] == pytest.approx(math.log(2) / math.log(11))
    assert breadth_penalty([1], 1)[0] == pytest.approx(1.0)
    qs = {f"q{i}": f"common OR special{i}" for i in range(10)}
    res = Matcher(qs).match([("common news", None), ("special3 news", None)])
    broad = res.score[res.doc == 0]
    narrow = res.score[res.doc == 1]
    assert len(broad) == 10 and len(narrow) == 1
    assert narrow[0] > broad.max()


def test_forced_matches() -> None:
    m = Matcher({"q": "hypersonic", "r": "unrelated"})
    res = m.match([("Something GDELT found in the full text", None)], forced=[(0, "q"), (0, "zz")])
    assert pairs(res) == {("q", 0)}
    assert res.weight[0] == 1.0 and res.terms(0) == []


def test_empty_inputs() -> None:
    assert len(Matcher({}).match([("a", None)])) == 0
    assert len(Matcher({"q": "x1"}).match([])) == 0


WORDS = ["russia", "china", "j-20", "su-57", "first flight", "radar", "歼", "歼-20", "AI", "c++"]


@settings(max_examples=60, deadline=None)
@given(
    queries=st.lists(
        st.tuples(
            st.sampled_from(WORDS),
            st.sampled_from(WORDS),
            st.sampled_from(WORDS),
            st.sampled_from(
                [
                    "{a} {b}",
                    "{a} OR {b}",
                    "({a} OR {b}) -{c}",
                    "{a} ({b} OR {c})",
                    "{a} NOT ({b} {c})",
                ]
            ),
        ),
        min_size=1,
        max_size=6,
    ),
    docs=st.lists(
        st.tuples(
            st.lists(
                st.sampled_from([*WORDS, "x", "Russia's", "J-20s", "first-flight", "歼-20战机"]),
                max_size=6,
            ),
            st.lists(st.sampled_from([*WORDS, "y", "FIRST  FLIGHT"]), max_size=4),
        ),
        max_size=30,
    ),
)
def test_same_as_naive(queries, docs) -> None:  # type: ignore[no-untyped-def]
    def q(w: str) -> str:
        return f'"{w}"' if " " in w else w

    qs = {f"q{i}": tpl.format(a=q(a), b=q(b), c=q(c)) for i, (a, b, c, tpl) in enumerate(queries)}
    texts = [(" ".join(t), " ".join(s) or None) for t, s in docs]
    assert pairs(Matcher(qs).match(texts)) == naive_match(qs, texts)


# ------------------------------------------------------------------ prefix wildcards


def test_prefix_wildcard_cyrillic() -> None:
    m = Matcher({"engines": "двигател* Кита*"})
    docs = [
        ("Россия поставит двигатели для Китая", None),
        ("Китай закупает двигателей больше", None),
        ("КИТАЙСКИЕ ДВИГАТЕЛИ", None),  # case-insensitive, and кита* is a prefix of китайские
        ("Двигатель для Китая", None),  # the singular starts with the stem too
        ("Перевод: endвигатели Китая", None),  # a stem inside a word is no match
        ("Китая", "без двигателей"),  # title and summary together
        ("Кит и двигатели", None),  # кит is shorter than the stem
    ]
    res = m.match(docs)
    assert pairs(res) == {
        ("engines", 0),
        ("engines", 1),
        ("engines", 2),
        ("engines", 3),
        ("engines", 5),
    }
    assert res.terms(0) == ["двигател*", "кита*"]
    assert list(res.weight) == [4.0, 4.0, 4.0, 4.0, 3.0]


def test_prefix_wildcard_latin_and_word_boundaries() -> None:
    m = Matcher({"q": "missil*", "r": "missile"})
    docs = [
        ("Missiles galore", None),
        ("anti-missile shield", None),
        ("A missile", None),
        ("Emissile", None),
        ("missil", None),  # the stem alone is a word that starts with the stem
        ("missi", None),
    ]
    assert pairs(m.match(docs)) == {
        ("q", 0),
        ("q", 1),
        ("r", 1),
        ("q", 2),
        ("r", 2),
        ("q", 4),
    }


def test_overlapping_prefixes_and_words_learned_across_batches() -> None:
    m = Matcher({"long": "двигател*", "short": "двиг*", "exact": "двигатели"})
    first = m.match([("двигатели", None)])
    assert {(q, d) for q, d in pairs(first)} == {("long", 0), ("short", 0), ("exact", 0)}
    # A word first seen in a later batch, and a known one again
    second = m.match([("движение", None), ("двигателей", None), ("двигатели", None)])
    assert pairs(second) == {
        ("short", 1),
        ("long", 1),
        ("short", 2),
        ("long", 2),
        ("exact", 2),
    }
    # two words matching one wildcard count once
    third = m.match([("двигатели и двигателей", None)])
    assert [float(w) for w in third.weight[third.question == 0]] == [2.0]


def test_prefix_wildcard_under_not() -> None:
    m = Matcher({"q": "engine -test*"})
    docs = [("engine tests", None), ("engine testing", None), ("engine news", None)]
    assert pairs(m.match(docs)) == {("q", 2)}


PREFIX_WORDS = ["missil*", "двигател*", "кита*", "russia", "j-20", "first flight", "歼-20"]


@settings(max_examples=60, deadline=None)
@given(
    queries=st.lists(
        st.tuples(
            st.sampled_from(PREFIX_WORDS),
            st.sampled_from(PREFIX_WORDS),
            st.sampled_from(["{a} {b}", "{a} OR {b}", "{a} -{b}"]),
        ),
        min_size=1,
        max_size=5,
    ),
    docs=st.lists(
        st.lists(
            st.sampled_from(
                [
                    "Missiles",
                    "missil",
                    "emissile",
                    "двигатели",
                    "ДВИГАТЕЛЕЙ",
                    "двигатель",
                    "Китая",
                    "кит",
                    "Russia's",
                    "J-20",
                    "first flight",
                    "歼-20战机",
                    "x",
                ]
            ),
            max_size=6,
        ),
        max_size=25,
    ),
)
def test_prefix_wildcards_same_as_naive(queries, docs) -> None:  # type: ignore[no-untyped-def]
    def q(w: str) -> str:
        return f'"{w}"' if " " in w else w

    qs = {f"q{i}": tpl.format(a=q(a), b=q(b)) for i, (a, b, tpl) in enumerate(queries)}
    texts = [(" ".join(words), None) for words in docs]
    assert pairs(Matcher(qs).match(texts)) == naive_match(qs, texts)


# ------------------------------------------------------------------- weak (GDELT) matches


def test_weak_pairs_are_full_when_the_query_matches_the_title() -> None:
    m = Matcher({"q": "hypersonic glide", "r": "radar"}, {"q": ["first flight"]})
    docs = [
        ("Hypersonic glide vehicle: first flight", None),  # GDELT, and the query matches
        ("Something GDELT found: first flight", None),  # GDELT, the title does not match
        ("Hypersonic glide news", None),  # a feed article that matches
    ]
    res = m.match(docs, weak=[(0, "q"), (1, "q"), (1, "zz")])
    got = {
        (int(d), bool(w), float(s), bool(p))
        for d, w, s, p in zip(res.doc, res.weak, res.score, res.possible_resolution, strict=True)
    }
    low = round(0.5 * math.log(2) / math.log(3), 4)  # Q = 2, as if it matched both
    assert got == {(0, False, 4.0, True), (1, True, low, False), (2, False, 4.0, False)}


def test_weak_matches_never_outrank_full_ones_and_do_not_count_for_breadth() -> None:
    qs = {f"q{i}": f"common OR special{i}" for i in range(10)}
    docs = [("common story", None), ("special3 story", None), ("unrelated", None)]
    # GDELT returned the special3 story and the unrelated one for every question
    weak = [(d, f"q{i}") for d in (1, 2) for i in range(10)]
    res = Matcher(qs).match(docs, weak=weak)
    full, low = res.score[~res.weak], res.score[res.weak]
    assert len(full) == 11 and len(low) == 19
    assert low.max() < full.min()
    # the special3 story matches one question: its full score keeps penalty 1, the 9
    # weak pairs it also has do not count
    special = res.score[(res.doc == 1) & ~res.weak]
    assert list(special) == [2.0]
    assert list(Matcher(qs).match(docs).score) == list(full)
