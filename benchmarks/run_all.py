"""Every benchmark in one run, one report: retrieval, classifier, engine, end-to-end, manager queries.

Each benchmark runs as its own process (so none warms another's caches) and its tables are printed under
one heading, then a summary of which ones ran. `--quick` shortens the long ones for a smoke run.
Run: `python benchmarks/run_all.py [--quick] [--only e2e,engine]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BENCHMARKS: list[tuple[str, str, list[str], list[str]]] = [
    # name, script, full arguments, quick arguments
    ("retrieval", "bench_retrieval.py", [], ["--rounds", "5"]),
    ("classifier", "bench_classifier.py", [], ["--rounds", "10"]),
    ("engine", "bench_engine.py", [], ["--reps", "5", "--rounds", "2"]),
    ("e2e", "bench_e2e.py", [], ["--duration", "4", "--rounds", "1"]),
    ("manager", "bench_manager.py", [], ["--reps", "50", "--weeks", "12", "--runs", "5"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test of the benchmarks)")
    parser.add_argument("--only", default="", help="comma-separated names: " + ", ".join(b[0] for b in BENCHMARKS))
    args = parser.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {b[0] for b in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"
    print(f"SalesCoach benchmarks — {time.strftime('%Y-%m-%d %H:%M')} — Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load {load}{' — quick' if args.quick else ''}")
    summary: list[tuple[str, str, float]] = []
    for name, script, full, quick in BENCHMARKS:
        if wanted and name not in wanted:
            continue
        path = REPO / "benchmarks" / script
        print("\n" + "=" * 100 + f"\n{name}: {script}\n" + "=" * 100, flush=True)
        if not path.is_file():
            print("(not present yet: skipped)")
            summary.append((name, "missing", 0.0))
            continue
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(path), *(quick if args.quick else full)], cwd=REPO, check=False)
        elapsed = time.perf_counter() - started
        summary.append((name, "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})", elapsed))
    print("\n" + "=" * 100)
    for name, status, elapsed in summary:
        print(f"{name:<12}{status:<22}{elapsed:>8.1f} s")
    return 0 if all(status in ("ok", "missing") for _, status, _ in summary) else 1


if __name__ == "__main__":
    raise SystemExit(main())
