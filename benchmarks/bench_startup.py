"""Start-up time of the everyday commands on the shipped questions (median of N runs).

    python benchmarks/bench_startup.py [--runs 15] [--only list,show]

Creates a SQLite database in a temporary directory from ./questions.yaml, adds a
forecaster with a forecast, then runs each command as a user would (the installed console
script, output to a pipe), rounds interleaved so a busy machine slows every command alike.
A command that reads the database is dominated by imports: this guards against heavy
modules (numpy, matplotlib, httpx, ...) creeping into the read path. Bytecode is cached as
on a user's machine (``PYTHONDONTWRITEBYTECODE`` is dropped for the commands timed: with
it, every run compiles the package's modules again, some 40 ms).

Budgets: `--help` 150 ms; `list`, `show`, `due` and `predict` 450 ms (median).
Writes benchmarks/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "engines-new-contract-2028"

#: name -> (arguments, budget in seconds or None)
COMMANDS: dict[str, tuple[list[str], float | None]] = {
    "--help": (["--help"], 0.150),
    "(dashboard)": ([], None),
    "list": (["list"], 0.450),
    "list --json": (["list", "--json"], 0.450),
    "show": (["show", QUESTION], 0.450),
    "due": (["due"], 0.450),
    "predict": (["predict", QUESTION, "0.6", "--by", "alice"], 0.450),
}


def _exe() -> str:
    return shutil.which("forecasts", path=str(Path(sys.executable).parent)) or "forecasts"


def _setup(exe: str, workdir: Path) -> None:
    shutil.copy(ROOT / "questions.yaml", workdir / "questions.yaml")
    for args in (
        ["init"],
        ["people", "add", "alice"],
        ["predict", QUESTION, "0.55", "--by", "alice"],
    ):
        subprocess.run([exe, *args], cwd=workdir, check=True, stdout=subprocess.DEVNULL)


def _time(exe: str, args: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [exe, *args],
        cwd=cwd,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--only", default="", help="Comma-separated command names to run.")
    args = ap.parse_args()
    chosen = {k: v for k, v in COMMANDS.items() if not args.only or k in args.only.split(",")}
    exe = _exe()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FORECASTS_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    times: dict[str, list[float]] = {name: [] for name in chosen}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        _setup(exe, workdir)
        for argv, _ in chosen.values():  # warm the page cache and .pyc files
            _time(exe, argv, workdir, env)
        for _ in range(args.runs):
            for name, (argv, _) in chosen.items():
                times[name].append(_time(exe, argv, workdir, env))
    bare = statistics.median(
        _time(sys.executable, ["-c", "pass"], ROOT, env) for _ in range(args.runs)
    )
    result: dict[str, dict[str, float | int | bool | None]] = {}
    for name, ts in times.items():
        budget = chosen[name][1]
        median = statistics.median(ts)
        result[name] = {
            "runs": len(ts),
            "median_s": round(median, 4),
            "min_s": round(min(ts), 4),
            "max_s": round(max(ts), 4),
            "budget_s": budget,
            "within_budget": None if budget is None else median <= budget,
        }
        mark = "" if budget is None else ("  ok" if median <= budget else "  OVER BUDGET")
        print(
            f"{name:<14} median {median * 1000:4.0f} ms  (min {min(ts) * 1000:.0f}, "
            f"max {max(ts) * 1000:.0f}; budget "
            f"{'-' if budget is None else f'{budget * 1000:.0f} ms'}){mark}"
        )
    print(f"bare python    median {bare * 1000:4.0f} ms")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "startup.json").write_text(
        json.dumps({"commands": result, "bare_python_s": round(bare, 4)}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
