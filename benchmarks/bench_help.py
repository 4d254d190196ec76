"""Start-up time of `forecasts --help` (median of N runs of the installed console script).

    python benchmarks/bench_help.py [--runs 15]

Writes benchmarks/results/help.json. Start-up is dominated by imports, so this guards
against heavy modules (sqlmodel, numpy, matplotlib, ...) creeping into module level.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    exe = shutil.which("forecasts", path=str(Path(sys.executable).parent)) or "forecasts"
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run([exe, "--help"], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(args.runs):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = (time.perf_counter() - t0) / args.runs
    result = {
        "runs": args.runs,
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
        "bare_python_s": round(bare, 4),
    }
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "help.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"forecasts --help: median {result['median_s'] * 1000:.0f} ms over {args.runs} runs "
        f"(min {result['min_s'] * 1000:.0f}, max {result['max_s'] * 1000:.0f}; "
        f"bare python {bare * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
