"""Matching: 1,000 question queries against 100,000 articles, against a naive loop.

    python benchmarks/bench_news_matching.py [--questions 1000] [--articles 100000]
                                             [--naive-sample 1000] [--wildcards 0 0.1]

Synthetic but shaped like the real thing: a Zipf-distributed vocabulary of defence words
and invented tokens, hyphenated designators (J-20, S-400), quoted phrases, OR groups,
NOT, resolution terms, and 5% Chinese-language articles and queries.

It runs once per ``--wildcards`` share: the fraction of query terms written as prefix
wildcards (``missil*``: a vocabulary word cut to a stem of 3 or more letters). The
default runs the plain queries and then a tenth of the terms as wildcards; each must
stay within the 5 s budget.

The naive baseline (one regex per term, Python loop over question x article) would take
hours on 100,000 articles, so it runs on the first ``--naive-sample`` articles, checks
that both give the same matches there, and is extrapolated linearly (its cost is exactly
linear in the number of articles). Writes benchmarks/results/news_matching.json.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from forecasts.news.matching import Matcher, naive_match

BASE = [
    "russia",
    "china",
    "defence",
    "defense",
    "missile",
    "hypersonic",
    "submarine",
    "radar",
    "satellite",
    "export",
    "deal",
    "fighter",
    "jet",
    "engine",
    "drone",
    "navy",
    "army",
    "exercise",
    "joint",
    "technology",
    "transfer",
    "sanctions",
    "semiconductor",
    "chip",
    "space",
    "launch",
    "nuclear",
    "reactor",
    "shipyard",
    "carrier",
    "destroyer",
    "frigate",
    "tank",
    "artillery",
    "rocket",
    "cruise",
    "ballistic",
    "glide",
    "vehicle",
    "test",
    "flight",
    "delivery",
    "contract",
    "beijing",
    "moscow",
    "kremlin",
    "pla",
    "rostec",
    "avic",
    "norinco",
    "sukhoi",
    "tupolev",
    "kalashnikov",
]
DESIGNATORS = [
    "J-20",
    "J-35",
    "Su-57",
    "Su-35",
    "S-400",
    "S-500",
    "Tu-160",
    "H-20",
    "Y-20",
    "Il-76",
]
CJK = ["歼-20", "高超音速", "导弹", "俄罗斯", "中国", "潜艇", "雷达", "卫星", "联合演习", "发动机"]
PHRASES = ["first flight", "joint exercise", "technology transfer", "early warning", "air defense"]


def make_vocab(rng: random.Random, n: int) -> list[str]:
    words = list(BASE) + [d.lower() for d in DESIGNATORS]
    while len(words) < n:
        words.append(
            "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
        )
    return words


def make_queries(
    rng: random.Random, vocab: list[str], n: int, wildcards: float = 0.0
) -> tuple[dict[str, str], dict[str, list[str]]]:
    queries: dict[str, str] = {}
    res: dict[str, list[str]] = {}
    common = vocab[:300]

    def term() -> str:
        # The plain variant draws exactly as before, so its numbers stay comparable.
        if wildcards and rng.random() < wildcards:
            word = rng.choice(common) if rng.random() < 0.6 else rng.choice(vocab)
            word = word.split("-")[0] if "-" in word else word
            if len(word) >= 3:
                return word[: max(3, len(word) - rng.randint(0, 3))] + "*"
        r = rng.random()
        if r < 0.15:
            return f'"{rng.choice(PHRASES)}"'
        if r < 0.3:
            return f'"{rng.choice(DESIGNATORS)}"'
        return rng.choice(common) if rng.random() < 0.6 else rng.choice(vocab)

    for i in range(n):
        if rng.random() < 0.05:
            q = f"{rng.choice(CJK)} OR {rng.choice(CJK)}"
        else:
            shape = rng.random()
            if shape < 0.3:
                q = f"{term()} {term()}"
            elif shape < 0.6:
                q = f"{term()} ({term()} OR {term()} OR {term()})"
            elif shape < 0.8:
                q = f"({term()} OR {term()}) {term()} -{rng.choice(common)}"
            else:
                q = f"{term()} AND ({term()} OR {term()}) NOT ({term()} OR {term()})"
        queries[f"q{i:04d}"] = q
        if rng.random() < 0.2:
            res[f"q{i:04d}"] = [rng.choice(PHRASES)]
    return queries, res


def make_articles(rng: random.Random, vocab: list[str], n: int) -> list[tuple[str, str | None]]:
    weights = [1 / (k + 1) for k in range(len(vocab))]
    out: list[tuple[str, str | None]] = []
    for _ in range(n):
        if rng.random() < 0.05:
            title = "".join(rng.choices(CJK, k=4))
            summary = "".join(rng.choices(CJK, k=12)) + "。"
        else:
            tw = rng.choices(vocab, weights, k=rng.randint(6, 14))
            sw = rng.choices(vocab, weights, k=rng.randint(15, 40))
            if rng.random() < 0.2:
                tw.insert(rng.randrange(len(tw) + 1), rng.choice(DESIGNATORS))
            if rng.random() < 0.1:
                sw.insert(rng.randrange(len(sw) + 1), rng.choice(PHRASES))
            title = " ".join(tw).capitalize()
            summary = " ".join(sw) + "."
        out.append((title, summary))
    return out


def run(
    queries: dict[str, str],
    res_terms: dict[str, list[str]],
    docs: list[tuple[str, str | None]],
    naive_sample: int,
) -> dict[str, object]:
    t0 = time.perf_counter()
    matcher = Matcher(queries, res_terms)
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = matcher.match(docs)
    t_match = time.perf_counter() - t0
    total = t_compile + t_match

    sample = docs[:naive_sample]
    t0 = time.perf_counter()
    naive = naive_match(queries, sample)
    t_naive_sample = time.perf_counter() - t0
    fast_sample = {
        (m.question_ids[int(q)], int(d))
        for q, d in zip(m.question, m.doc, strict=True)
        if d < len(sample)
    }
    assert fast_sample == naive, "fast and naive matching disagree"
    t_naive = t_naive_sample * len(docs) / len(sample)
    return {
        "questions": len(queries),
        "articles": len(docs),
        "distinct_terms": len(matcher.term_text),
        "wildcard_terms": sum(t.endswith("*") for t in matcher.term_text),
        "matches": len(m),
        "compile_s": round(t_compile, 3),
        "match_s": round(t_match, 3),
        "total_s": round(total, 3),
        "articles_per_s": round(len(docs) / total),
        "naive_sample_articles": len(sample),
        "naive_sample_s": round(t_naive_sample, 3),
        "naive_extrapolated_s": round(t_naive, 1),
        "speedup": round(t_naive / total, 1),
        "same_matches_on_sample": True,
        "budget_s": 5.0,
        "within_budget": total <= 5.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--naive-sample", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--wildcards",
        type=float,
        nargs="+",
        default=[0.0, 0.1],
        help="shares of query terms written as prefix wildcards, one run each",
    )
    args = ap.parse_args()
    results: dict[str, dict[str, object]] = {}
    for share in args.wildcards:
        rng = random.Random(args.seed)
        vocab = make_vocab(rng, 5000)
        queries, res_terms = make_queries(rng, vocab, args.questions, share)
        docs = make_articles(rng, vocab, args.articles)
        r = run(queries, res_terms, docs, args.naive_sample)
        results[f"wildcards_{share:g}"] = r
        print(
            f"matching {r['questions']} queries x {r['articles']} articles, "
            f"{share:.0%} wildcard terms ({r['wildcard_terms']} of {r['distinct_terms']} "
            f"distinct): {r['total_s']:.2f} s (compile {r['compile_s']:.2f} s, "
            f"match {r['match_s']:.2f} s; {r['matches']} matches)\n"
            f"  naive loop: {r['naive_sample_s']:.2f} s for {r['naive_sample_articles']} "
            f"articles -> ~{r['naive_extrapolated_s']:.0f} s for all; "
            f"speed-up x{r['speedup']:.0f}; same matches on the sample"
        )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "news_matching.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
