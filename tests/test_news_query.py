"""The news query language and its translation to GDELT."""

from __future__ import annotations

import pytest

from forecasts.errors import BadInput
from forecasts.news.query import And, Not, Or, Term, evaluate, parse_query, to_gdelt


def test_parse_precedence_and_phrases() -> None:
    n = parse_query('hypersonic "First  Flight" (Russia OR China) -exercise')
    assert n == And(
        (
            Term("hypersonic"),
            Term("first flight", phrase=True),
            Or((Term("russia"), Term("china"))),
            Not(Term("exercise")),
        )
    )
    # NOT binds tighter than AND, AND tighter than OR
    assert parse_query("a b OR c NOT d") == Or(
        (And((Term("a"), Term("b"))), And((Term("c"), Not(Term("d")))))
    )
    assert parse_query("a AND b") == parse_query("a b")


def test_lowercase_operators_are_words() -> None:
    assert parse_query("rock and roll") == And((Term("rock"), Term("and"), Term("roll")))


def test_hyphenated_words_are_terms() -> None:
    assert parse_query("Su-57 -India") == And((Term("su-57"), Not(Term("india"))))


def test_evaluate() -> None:
    n = parse_query('"j-20" (export OR delivery) -india')
    assert evaluate(n, {"j-20", "export"})
    assert not evaluate(n, {"j-20", "export", "india"})
    assert not evaluate(n, {"j-20"})


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        '"unterminated',
        "(a OR b",
        "a OR",
        "OR a",
        "a )",
        "-foo",
        "NOT (a OR b)",
        '""',
        "---",
    ],
)
def test_bad_queries(bad: str) -> None:
    with pytest.raises(BadInput):
        parse_query(bad)


def test_error_names_position() -> None:
    with pytest.raises(BadInput, match="position 1"):
        parse_query("(a OR b")


@pytest.mark.parametrize(
    ("query", "gdelt"),
    [
        ("hypersonic", "hypersonic"),
        ('"first flight" J-20', '"first flight" "j-20"'),
        ("a1x OR b2x OR c3x", "(a1x OR b2x OR c3x)"),
        (
            'russia china (submarine OR "nuclear reactor") -exercise',
            'russia china (submarine OR "nuclear reactor") -exercise',
        ),
        # OR over AND is distributed: GDELT only has one level of OR groups
        ("(alpha beta) OR gamma", "(alpha OR gamma) (beta OR gamma)"),
        # NOT over OR is De Morgan'd into plain negations
        ("missile NOT (test OR drill)", "missile -test -drill"),
        # short and non-Latin terms are dropped from OR groups
        ('(AI OR "artificial intelligence") Russia', '"artificial intelligence" russia'),
        ("J-20 OR 歼-20", '"j-20"'),
        ("Су-57 OR Su-57", '"su-57"'),
    ],
)
def test_to_gdelt(query: str, gdelt: str) -> None:
    assert to_gdelt(parse_query(query)).query == gdelt


def test_gdelt_or_only_inside_parentheses() -> None:
    for q in ["a1a OR b2b", "(x1x y2y) OR (z3z w4w)", "k1k OR (l2l -m3m)"]:
        g = to_gdelt(parse_query(q)).query
        assert g is not None
        depth = 0
        for i, c in enumerate(g):
            depth += c == "("
            depth -= c == ")"
            assert depth in (0, 1)  # never nested
            if g.startswith("OR", i):
                assert depth == 1


def test_gdelt_nothing_searchable() -> None:
    g = to_gdelt(parse_query("AI OR 中国"))
    assert g.query is None
    assert set(g.dropped) == {"ai", "中国"}


def test_gdelt_too_complex_falls_back_to_or() -> None:
    q = " OR ".join(f"(a{i}aa b{i}bb c{i}cc)" for i in range(6))
    g = to_gdelt(parse_query(q)).query
    assert g is not None and g.startswith("(a0aa OR b0bb")


# ------------------------------------------------------------------ prefix wildcards


def test_prefix_wildcards_parse() -> None:
    n = parse_query("двигател* (Кита* OR China) -Missil*")
    assert n == And(
        (
            Term("двигател*"),
            Or((Term("кита*"), Term("china"))),
            Not(Term("missil*")),
        )
    )
    assert all(t.prefix for t in (Term("двигател*"), Term("кита*")))
    assert not Term("china").prefix
    # printed back as written, and that parses to the same tree
    assert str(n) == "двигател* (кита* OR china) NOT missil*"
    assert parse_query(str(n)) == n


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("ab*", "at least 3 letters"),
        ("Ки*", "at least 3 letters"),
        ('"first fli*"', "not inside quotes"),
        ('"missil*"', "not inside quotes"),
        ("mis*sile", "only at the end"),
        ("missil**", "only at the end"),
        ("Su-5*", "without punctuation"),
        ("高超音*", "already match inside words"),
    ],
)
def test_prefix_wildcard_refused(bad: str, words: str) -> None:
    with pytest.raises(BadInput, match=words) as e:
        parse_query(f"russia {bad}")
    assert "position 8" in str(e.value)


@pytest.mark.parametrize(
    ("query", "gdelt"),
    [
        # GDELT takes no wildcards: it is sent the stem
        ("missil* Russia", "missil russia"),
        ("(hypersonic OR missil*) -exercis*", "(hypersonic OR missil) -exercis"),
        # a Cyrillic stem is not searchable on GDELT, like any Cyrillic term
        ("двигател* OR engine*", "engine"),
    ],
)
def test_prefix_wildcard_to_gdelt(query: str, gdelt: str) -> None:
    assert to_gdelt(parse_query(query)).query == gdelt


def test_prefix_wildcard_dropped_for_gdelt_is_named_with_its_star() -> None:
    g = to_gdelt(parse_query("двигател* Кита*"))
    assert g.query is None and g.dropped == ("двигател*", "кита*")
