"""Checks on the real questions.yaml at the repository root.

The loader enforces the schema, unique ids and date order; these tests add what the
showcase file promises on top: enough questions of each type, dates in the forecasting
window, complete metadata, claim quotes copied verbatim from the paper under the right
section heading, paper forecasts from the documented word-to-probability mapping, and news
queries the news matcher and GDELT accept.

The paper lives outside the repository (../shared/paper/...); the tests that read it are
skipped when it is absent.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
from collections import Counter
from pathlib import Path

import pytest

from forecasts.domain.questions_file import load_questions_file
from forecasts.domain.schemas import QuestionSpec
from forecasts.domain.values import PROB_MAX, PROB_MIN, QUANTILES

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "questions.yaml"
PAPER = ROOT.parent / "shared" / "paper" / "russia-china-defense-technology-2022.txt"

OPENS_EARLIEST = dt.date(2026, 12, 1)
WINDOW = (dt.date(2027, 1, 1), dt.date(2030, 12, 31))
MIN_QUESTIONS = 20
MAX_QUERY_CHARS = 400
MIN_TERM_CHARS = 3  # GDELT refuses shorter keywords (it searches Latin script only)

INTRODUCTION = "Introduction"  # the paper's untitled opening section
HEADINGS = ("Deepening ties", "Making arms together?", "The Ukraine effect", "Future prospects")
END_OF_TEXT = "References"

# The mapping in docs/questions.md: ICD 203 representative values, and their complements
# (a question whose YES contradicts the claim gets 1 - p).
MAPPING = (0.03, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97)
BINARY_VALUES = {round(p, 6) for p in MAPPING} | {round(1 - p, 6) for p in MAPPING}

needs_paper = pytest.mark.skipif(
    not PAPER.is_file(),
    reason=f"the paper is not available at {PAPER} (../shared is absent in this checkout)",
)


@pytest.fixture(scope="module")
def specs() -> list[QuestionSpec]:
    return load_questions_file(QUESTIONS)


@pytest.fixture(scope="module")
def sections() -> dict[str, str]:
    return split_sections(PAPER.read_text(encoding="utf-8"))


def split_sections(text: str) -> dict[str, str]:
    """Section heading -> its text; the text before the first heading is the introduction."""
    out: dict[str, list[str]] = {INTRODUCTION: []}
    current: str | None = INTRODUCTION
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in HEADINGS:
            current = stripped
            out[current] = []
        elif stripped == END_OF_TEXT:
            current = None
        elif current is not None:
            out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


# ------------------------------------------------------------------ the file as a whole


def test_file_loads_with_enough_unique_questions(specs: list[QuestionSpec]) -> None:
    assert len(specs) >= MIN_QUESTIONS
    ids = [q.id for q in specs]
    assert len(ids) == len(set(ids))


def test_mix_of_question_types(specs: list[QuestionSpec]) -> None:
    counts = Counter(q.type for q in specs)
    assert counts["numeric"] >= 2
    assert counts["choice"] >= 1
    assert counts["binary"] > len(specs) / 2


def test_dates_are_in_the_forecasting_window(specs: list[QuestionSpec]) -> None:
    for q in specs:
        assert q.opens >= OPENS_EARLIEST, q.id
        assert WINDOW[0] <= q.closes <= WINDOW[1], q.id
        assert WINDOW[0] <= q.resolve_by <= WINDOW[1], q.id
        assert q.opens < q.closes < q.resolve_by, f"{q.id}: leave time to resolve"


def test_every_question_is_complete(specs: list[QuestionSpec]) -> None:
    for q in specs:
        assert q.title.endswith("?"), q.id
        assert q.criteria.strip(), q.id
        assert q.tags, q.id
        assert q.news and q.news.strip(), q.id
        assert any(s.url for s in q.sources), f"{q.id}: needs a source with a URL"
        assert all(s.name for s in q.sources), f"{q.id}: name every source"
        assert q.claim is not None, q.id
        assert q.paper_forecast is not None, q.id


def test_numeric_and_choice_shapes(specs: list[QuestionSpec]) -> None:
    for q in specs:
        if q.type == "numeric":
            assert q.unit, q.id
            assert q.min is not None and q.max is not None and q.min < q.max, q.id
        if q.type == "choice":
            assert q.options and len(q.options) >= 2, q.id


# ------------------------------------------------------------------- paper forecasts


def test_paper_forecasts_are_in_range(specs: list[QuestionSpec]) -> None:
    for q in specs:
        f = q.paper_forecast
        if q.type == "binary":
            assert isinstance(f, float), q.id
            assert PROB_MIN <= f <= PROB_MAX, q.id
        elif q.type == "choice":
            assert isinstance(f, dict) and q.options, q.id
            assert list(f) == list(q.options), f"{q.id}: give every option"
            assert all(PROB_MIN <= p <= PROB_MAX for p in f.values()), q.id
            assert math.isclose(sum(f.values()), 1.0, abs_tol=1e-9), q.id
        else:
            assert isinstance(f, dict) and "p50" in f, q.id
            assert set(f) <= set(QUANTILES), q.id
            values = [f[k] for k in QUANTILES if k in f]
            assert values == sorted(values), q.id
            assert q.min is not None and q.max is not None
            assert all(q.min <= v <= q.max for v in values), q.id


def test_binary_paper_forecasts_come_from_the_mapping(specs: list[QuestionSpec]) -> None:
    for q in specs:
        if q.type == "binary":
            assert isinstance(q.paper_forecast, float)
            assert round(q.paper_forecast, 6) in BINARY_VALUES, (
                f"{q.id}: {q.paper_forecast} is not a value of the documented mapping"
            )


# --------------------------------------------------------------------- claims vs paper


@needs_paper
def test_sections_are_found_in_the_paper(sections: dict[str, str]) -> None:
    for name in (INTRODUCTION, *HEADINGS):
        assert sections.get(name, "").strip(), f"section {name!r} not found in the paper"


@needs_paper
def test_claim_quotes_are_verbatim_under_their_section(
    specs: list[QuestionSpec], sections: dict[str, str]
) -> None:
    paper = PAPER.read_text(encoding="utf-8")
    for q in specs:
        assert q.claim is not None
        assert q.claim.section in sections, f"{q.id}: unknown section {q.claim.section!r}"
        assert q.claim.quote in paper, f"{q.id}: quote is not verbatim in the paper"
        assert q.claim.quote in sections[q.claim.section], (
            f"{q.id}: quote is not in section {q.claim.section!r}"
        )


def test_split_sections_handles_an_untitled_introduction() -> None:
    text = "Title\n\nOpening words.\n\nDeepening ties\n\nTies text.\n\nReferences\n\n[1] x"
    got = split_sections(text)
    assert "Opening words." in got[INTRODUCTION]
    assert got["Deepening ties"].strip() == "Ties text."
    assert all("[1]" not in v for v in got.values())


# ------------------------------------------------------------------------ news queries


def latin(term: str) -> bool:
    """Latin-script terms are the ones sent to GDELT; CJK and Cyrillic are matched locally."""
    return all(ord(c) < 0x250 or not c.isalpha() for c in term)


def query_problems(query: str) -> list[str]:
    """Structural checks that need no parser: balanced quotes and parentheses, OR only
    inside parentheses (GDELT's rule), no Latin term too short for GDELT, bounded length."""
    problems: list[str] = []
    if len(query) >= MAX_QUERY_CHARS:
        problems.append(f"{len(query)} characters; keep it under {MAX_QUERY_CHARS}")
    if query.count('"') % 2:
        problems.append("unbalanced double quotes")
    depth = 0
    tokens: list[tuple[str, bool, int]] = []  # (text, quoted, depth)
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c == "(":
            depth += 1
            i += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                problems.append(f"unmatched ')' at position {i + 1}")
                depth = 0
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end < 0:
                break
            tokens.append((query[i + 1 : end], True, depth))
            i = end + 1
        else:
            end = i
            while end < n and not query[end].isspace() and query[end] not in '()"':
                end += 1
            tokens.append((query[i:end], False, depth))
            i = end
    if depth:
        problems.append("unbalanced parentheses")
    for text, quoted, level in tokens:
        if not quoted and text == "OR" and level == 0:
            problems.append("OR outside parentheses")
        elif not quoted and text in {"AND", "OR", "NOT"}:
            continue
        elif latin(text) and len(text.replace(" ", "").lstrip("-")) < MIN_TERM_CHARS:
            problems.append(f"term {text!r} is shorter than {MIN_TERM_CHARS} characters")
    return problems


def test_query_checker_catches_mistakes() -> None:
    assert query_problems('(Su-35 OR "S-400") AND China') == []
    assert query_problems("Su-35 OR China")
    assert query_problems('("S-400" OR China')
    assert query_problems('"S-400 AND China')
    assert query_problems("(AI OR China) AND Russia")
    assert query_problems("(退役 OR retired) AND China") == []


def test_news_queries_are_well_formed(specs: list[QuestionSpec]) -> None:
    for q in specs:
        assert q.news is not None
        assert query_problems(q.news) == [], f"{q.id}: {query_problems(q.news)}"


def test_news_queries_parse_with_the_news_matcher(specs: list[QuestionSpec]) -> None:
    try:
        query_mod = importlib.import_module("forecasts.news.query")
    except ImportError:
        pytest.skip("forecasts.news.query is not available; structural checks only")
    parse = getattr(query_mod, "parse_query", None)
    if parse is None:
        pytest.skip("forecasts.news.query has no parse_query; structural checks only")
    to_gdelt = getattr(query_mod, "to_gdelt", None)
    for q in specs:
        node = parse(q.news)
        if to_gdelt is not None:
            translated = to_gdelt(node)
            assert translated.query, f"{q.id}: nothing left to send to GDELT"
            assert len(translated.query) < MAX_QUERY_CHARS, q.id
