"""Checks on the real questions.yaml at the repository root.

The loader enforces the schema, unique ids and date order; these tests add what the
showcase file promises on top: enough questions of each type, dates in the forecasting
window, complete metadata, claim quotes copied verbatim from the paper under the right
section heading, paper forecasts from the documented word-to-probability mapping, news
queries the news matcher and GDELT accept, live questions that ask only about what happens
after they open (every fact already known is a dated baseline), retrospective questions that
carry their resolutions with the evidence logged in docs/questions.md, and the paper's
retrospective scorecard after `init`.

The paper lives outside the repository (../shared/paper/...); the tests that read it are
skipped when it is absent.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest
from freezegun import freeze_time

from forecasts.domain.questions_file import load_questions_file
from forecasts.domain.schemas import QuestionSpec
from forecasts.domain.values import PROB_MAX, PROB_MIN, QUANTILES

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "questions.yaml"
DOCS = ROOT / "docs" / "questions.md"
PAPER = ROOT.parent / "shared" / "paper" / "russia-china-defense-technology-2022.txt"

# Live questions: asked from the day this edition ships, about what happens after it.
OPENS_EARLIEST = dt.date(2026, 12, 1)
WINDOW = (dt.date(2027, 1, 1), dt.date(2030, 12, 31))
# Retrospective questions: asked as of the paper's publication, all settled by mid-2026.
RETROSPECTIVE = "retrospective"
PUBLISHED = dt.date(2022, 6, 10)
SETTLED_BY = dt.date(2026, 7, 1)
MIN_RETROSPECTIVE = 10
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


def live(specs: list[QuestionSpec]) -> list[QuestionSpec]:
    return [q for q in specs if RETROSPECTIVE not in q.tags]


def retrospective(specs: list[QuestionSpec]) -> list[QuestionSpec]:
    return [q for q in specs if RETROSPECTIVE in q.tags]


def test_live_dates_are_in_the_forecasting_window(specs: list[QuestionSpec]) -> None:
    for q in live(specs):
        assert q.opens >= OPENS_EARLIEST, q.id
        assert WINDOW[0] <= q.closes <= WINDOW[1], q.id
        assert WINDOW[0] <= q.resolve_by <= WINDOW[1], q.id
        assert q.opens < q.closes < q.resolve_by, f"{q.id}: leave time to resolve"
        assert q.resolution is None, f"{q.id}: only retrospective questions carry a resolution"


def test_retrospective_questions_open_at_publication_and_are_settled(
    specs: list[QuestionSpec],
) -> None:
    retro = retrospective(specs)
    assert sum(q.type == "binary" for q in retro) >= MIN_RETROSPECTIVE
    for q in retro:
        assert q.opens == PUBLISHED, q.id
        assert q.opens < q.closes < SETTLED_BY, q.id
        assert q.closes < q.resolve_by, q.id
        assert q.resolution is not None, f"{q.id}: a retrospective question needs its resolution"
        assert q.opens <= q.resolution.resolved_on < SETTLED_BY, q.id


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


# Russian nouns inflect: one prefix wildcard covers the cases a list of forms would miss.
SPELLED_OUT = {"китай", "китая", "китаю", "китаем", "китае", "россия", "россии", "россией"}


def test_live_news_queries_use_wildcards_and_chinese_terms(specs: list[QuestionSpec]) -> None:
    from forecasts.news.query import is_cjk, parse_query, terms

    for q in live(specs):
        assert q.news is not None
        words = {t.text for t in terms(parse_query(q.news))}
        assert not words & SPELLED_OUT, f"{q.id}: use Кита* / Росси*, not {words & SPELLED_OUT}"
        assert any(is_cjk(w) for w in words), f"{q.id}: add the Chinese terms (e.g. 中国, 中俄)"


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


# ------------------------------------------------------------- facts settled before opening

BASELINE_RE = re.compile(r"^Baseline \(as of (\d{4}-\d{2}-\d{2})\): ")
# A span of years (2023–27, 2021-2025) and an ISO day; neither may reach back before the
# opening outside a baseline. The lookarounds keep an ISO day from reading as a span.
SPAN_RE = re.compile(r"(?<![\d-])(20\d\d)[–-](\d\d|20\d\d)(?![\d-])")
DAY_RE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def bullets(text: str | None) -> list[str]:
    """Fine-print bullets ("- ..." plus their indented continuation lines), each joined
    into one line."""
    out: list[str] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            out.append(stripped[2:])
        elif stripped and out:
            out[-1] += " " + stripped
    return out


def settled_fact_problems(q: QuestionSpec) -> list[str]:
    """Why a live question may rest on something already settled when it opens: a baseline
    that is undated or dated on or after the opening, or a span of years or a day before the
    opening used outside a dated baseline (a window that is partly published already)."""
    problems: list[str] = []
    body = [q.title, q.criteria]
    for b in bullets(q.fine_print):
        m = BASELINE_RE.match(b)
        if m:
            if dt.date.fromisoformat(m.group(1)) >= q.opens:
                problems.append(f"baseline dated {m.group(1)}, not before the opening")
        else:
            body.append(b)
    if q.fine_print and not q.fine_print.lstrip().startswith("- "):
        body.append(q.fine_print)
    for text in body:
        if "Baseline" in text or "For reference" in text:
            problems.append("a baseline must be its own bullet: '- Baseline (as of DATE): ...'")
        for m in SPAN_RE.finditer(text):
            if int(m.group(1)) < q.opens.year:
                problems.append(f"span {m.group(0)} starts before the opening")
        for m in DAY_RE.finditer(text):
            if dt.date.fromisoformat(m.group(1)) < q.opens:
                problems.append(f"day {m.group(1)} is before the opening")
    return problems


def test_no_live_question_rests_on_a_fact_settled_before_it_opens(
    specs: list[QuestionSpec],
) -> None:
    for q in live(specs):
        assert settled_fact_problems(q) == [], f"{q.id}: {settled_fact_problems(q)}"


def test_settled_fact_check_catches_mistakes() -> None:
    base = {
        "id": "q1",
        "title": "Will it?",
        "criteria": "Yes if SIPRI's 2027 figure is higher.",
        "opens": "2026-12-01",
        "closes": "2027-06-30",
        "resolve_by": "2028-06-30",
    }

    def problems(**fields: str) -> list[str]:
        return settled_fact_problems(QuestionSpec.model_validate(base | fields))

    assert problems() == []
    assert problems(fine_print="- Baseline (as of 2026-03-09): 5.6% in 2021-25.\n") == []
    assert problems(criteria="China's share in 2023–27.")  # a partly published window
    assert problems(criteria="Yes if it happens between 2026-06-01 and 2027-12-31.")
    assert problems(fine_print="- For reference, the 2025 figure was 228.1.\n")  # undated
    assert problems(fine_print="- Baseline: 228.1 in 2025.\n")  # undated
    assert problems(fine_print="- Baseline (as of 2026-12-01): known on the opening day.\n")
    assert problems(title="Will 2024–26 trade exceed the record?")


# The review of the first edition named facts known in late 2026 that the criteria must
# state as dated baselines; they must not silently disappear.
REVIEW_BASELINES = {
    "china-russia-trade-2027": ["228.1", "244.8"],
    "missile-early-warning-cooperation-2028": ["third joint anti-missile exercise"],
    "decommission-russian-built-warship-2029": ["Project 636", "877EKM"],
    "russian-built-flankers-military-balance-2029": ["The Military Balance 2026"],
    "chinese-major-arms-to-russian-client-2028": ["FK-3", "HQ-9B"],
    "pla-in-russian-strategic-exercise-2027": ["Vostok-2022", "Ocean-2024", "Zapad-2025"],
    "joint-naval-patrols-count-2027": ["coast guard", "submarine patrol"],
    "engines-sipri-deliveries-2027": ["helicopters and engines"],
    "sipri-china-to-russia-deliveries-2027-28": ["March 2026 release"],
}


def test_the_reviews_baselines_are_stated(specs: list[QuestionSpec]) -> None:
    by_id = {q.id: q for q in specs}
    for qid, needles in REVIEW_BASELINES.items():
        text = f"{by_id[qid].criteria}\n{by_id[qid].fine_print or ''}"
        for needle in needles:
            assert needle in text, f"{qid}: the baseline {needle!r} is missing"


# ------------------------------------------------------------------- the research log


@pytest.fixture(scope="module")
def research_log() -> str:
    return DOCS.read_text(encoding="utf-8")


def test_every_evidence_url_and_baseline_is_in_the_research_log(
    specs: list[QuestionSpec], research_log: str
) -> None:
    for q in specs:
        if q.resolution is not None:
            for url in q.resolution.evidence:
                assert url in research_log, f"{q.id}: {url} is not in docs/questions.md"
        if any(BASELINE_RE.match(b) for b in bullets(q.fine_print)):
            assert f"`{q.id}`" in research_log, f"{q.id}: its baseline has no research log entry"


def test_every_resolution_note_quotes_its_evidence(specs: list[QuestionSpec]) -> None:
    for q in retrospective(specs):
        assert q.resolution is not None
        note = q.resolution.note
        assert re.search(r"[\"“][^\"”]{20,}[\"”]", note), f"{q.id}: quote the source in the note"


# ------------------------------------------------------- the paper's retrospective scorecard


def test_init_on_the_shipped_file_scores_the_paper_on_the_retrospective_questions(
    empty_db_url: str,
) -> None:
    from conftest import make_cli
    from forecasts.store.db import load_models

    load_models()  # table models are built before the clock is frozen (pydantic needs it)
    with freeze_time("2026-12-01 12:00:00"):
        _init_and_report(make_cli(empty_db_url))


def _init_and_report(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("init", "--questions", str(QUESTIONS))
    assert r.exit_code == 0, r.output
    retro = retrospective(load_questions_file(QUESTIONS))
    assert f"{len(retro)} resolutions from the file applied" in r.stdout
    r = cli("report", "--tag", RETROSPECTIVE, "--json")
    assert r.exit_code == 0, r.output
    paper = json.loads(r.stdout)["paper"]
    assert paper["counts"]["binary"] >= MIN_RETROSPECTIVE
    assert paper["counts"]["binary"] == sum(q.type == "binary" for q in retro)
    came_true = sum(
        1
        for q in retro
        if q.type == "binary"
        and isinstance(q.paper_forecast, float)
        and q.resolution is not None
        and q.paper_forecast != 0.5
        and (q.paper_forecast > 0.5) == (q.resolution.outcome == "yes")
    )
    assert paper["came_true"] == came_true
    # A second init changes nothing: the resolutions are applied once.
    r = cli("init", "--questions", str(QUESTIONS))
    assert "resolution" not in r.stdout, r.stdout
