"""Diagnostics ingest against bare pandas on the same 1,000,000-row per-sample CSV.

    .venv/bin/python benchmarks/intake.py [--rows 1000000] [--rounds 5] [--seed 1]

Generates a per-sample table (metric, sample_id, value; four 0/1 metrics, one of them
through an alias, and two continuous ones) into a temporary directory, then runs, in
interleaved pairs of fresh child processes:

- the anchor: `pd.read_csv` of the file's bytes and `groupby("metric")["value"]`
  `.agg(["count", "mean", "std"])`, nothing else;
- `import_diagnostics` on the same bytes: every check, the aggregation, the intervals.

Each child reports its CPU time (`time.process_time`) beside its wall time, and its peak
RSS (`ru_maxrss`: interpreter, libraries and the file's bytes included). Both start from
the bytes in memory, as an upload arrives, with their libraries loaded (pandas; for the
import also the readers and scipy.special, as in a worker after its first upload).
Targets (issue 17): the import within 1.5x the anchor's CPU time and 1.3x its peak
memory. Then two bounded-work checks: a file whose last row is broken is refused naming
that row's line (lines are only computed for an error), and a 1.3M-row summary table of
repeated rows (the shape of a 47 MB upload that once stored a warning per row) is
refused. Machine load is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_CPU_RATIO = 1.5
TARGET_MEMORY_RATIO = 1.3

BINARY_METRICS = (
    "scheming.in_context_rate",
    "eval_awareness.rate",
    "reward_hacking.rate",
    "sad_overall",  # mapped to situational_awareness.sad_score by the shipped aliases
)
CONTINUOUS_METRICS = ("tokens_per_answer", "judge_score")


def generate(path: Path, rows: int, seed: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = np.array(BINARY_METRICS + CONTINUOUS_METRICS)
    which = rng.integers(0, len(names), rows)
    binary = which < len(BINARY_METRICS)
    values = np.where(
        binary,
        (rng.random(rows) < 0.2 + 0.1 * which).astype(float),
        np.round(rng.normal(250.0, 60.0, rows), 3),
    )
    frame = pd.DataFrame(
        {
            "metric": names[which],
            "sample_id": np.char.add("s", np.arange(rows).astype(str)),
            "value": values,
        }
    )
    # 0/1 values written as 0 and 1, the way labs export pass/fail columns.
    frame["value"] = np.where(binary, values.astype(int).astype(str), values.astype(str))
    frame.to_csv(path, index=False)


def generate_repeats(path: Path, rows: int) -> None:
    """A summary table of one row repeated: 1.3M rows is the 47 MB upload of issue 16."""
    row = b"scheming.in_context_rate,0.12,0.09,0.15,400\n"
    with path.open("wb") as handle:
        handle.write(b"metric,value,ci_low,ci_high,n\n")
        for _ in range(rows // 10_000):
            handle.write(row * 10_000)


def _bare(content: bytes) -> Any:
    import io

    import pandas as pd

    return pd.read_csv(io.BytesIO(content)).groupby("metric")["value"].agg(["count", "mean", "std"])


def _import(name: str, content: bytes) -> Any:
    from audits.intake.diagnostics import import_diagnostics
    from audits.intake.types import IntakeError

    try:
        return import_diagnostics(name, content)
    except IntakeError as error:
        return error


def child(mode: str, path: Path) -> None:
    """Run one measurement in this fresh process and print it as JSON."""
    import pandas  # noqa: F401  (loaded before the baseline on both sides)

    if mode != "bare":
        # What a worker process has loaded after its first upload: the readers and
        # scipy.special. Their import is paid once per process, not per file.
        import scipy.special  # noqa: F401

        import audits.intake.diagnostics.samples  # noqa: F401

    content = path.read_bytes()
    baseline_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = _bare(content) if mode == "bare" else _import(path.name, content)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    report: dict[str, Any] = {"cpu": cpu, "wall": wall, "peak_mib": peak_mib}
    report["baseline_mib"] = baseline_mib
    if isinstance(outcome, Exception):
        report["error"] = str(outcome)[:160]
    elif mode != "bare":
        report["diagnostics"] = [
            {"metric": d.metric, "n": d.n, "value": round(d.value, 4), "method": d.method}
            for d in outcome.diagnostics
        ]
    print(json.dumps(report))


def measure(mode: str, path: Path) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.platform()}, Python {platform.python_version()}, {cpu}, "
        f"{len(os.sched_getaffinity(0))} CPUs"
    )


def load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    if args.generate:
        generate(args.generate, args.rows, args.seed)
        return

    print("machine:", machine())
    print("before:", load())
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "per-sample.csv"
        # In its own process: Linux carries a process's peak RSS across fork and exec, so a
        # parent holding the generated frame would inflate every child's figure.
        subprocess.run(
            [
                *(sys.executable, __file__, "--generate", str(path)),
                *("--rows", str(args.rows), "--seed", str(args.seed)),
            ],
            check=True,
        )
        size = path.stat().st_size / 2**20
        print(f"generated {args.rows:,} rows, {size:.1f} MiB")
        bare_runs, runs = [], []
        for _ in range(args.rounds):  # interleaved, so a busy moment hits both sides
            bare_runs.append(measure("bare", path))
            runs.append(measure("import", path))
        print("after:", load())
        for diagnostic in runs[0]["diagnostics"]:
            print(
                f"  {diagnostic['metric']:<34} n={diagnostic['n']:>7,} "
                f"mean={diagnostic['value']:<9} {diagnostic['method']}"
            )
        summary = {name: _summary(side) for name, side in (("bare", bare_runs), ("ours", runs))}
        for name, label in (("bare", "bare pandas"), ("ours", "import_diagnostics")):
            figures = summary[name]
            print(
                f"{label:<19} CPU {figures['cpu']:.2f} s (wall {figures['wall']:.2f} s), "
                f"peak RSS {figures['peak']:.0f} MiB ({figures['baseline']:.0f} MiB before); "
                f"runs: CPU "
                + ", ".join(f"{run['cpu']:.2f}" for run in (bare_runs if name == "bare" else runs))
            )
        cpu_ratio = summary["ours"]["cpu"] / summary["bare"]["cpu"]
        memory_ratio = summary["ours"]["peak"] / summary["bare"]["peak"]
        met = cpu_ratio <= TARGET_CPU_RATIO and memory_ratio <= TARGET_MEMORY_RATIO
        print(
            f"ratio: CPU {cpu_ratio:.2f}x (target <= {TARGET_CPU_RATIO}x), peak memory "
            f"{memory_ratio:.2f}x (target <= {TARGET_MEMORY_RATIO}x): "
            + ("met" if met else "MISSED")
        )

        broken = Path(directory) / "per-sample-broken.csv"
        broken.write_bytes(path.read_bytes() + b"eval_awareness.rate,late,1.5\n")
        refused = measure("import", broken)
        print(f"last row broken: refused in CPU {refused['cpu']:.2f} s: {refused.get('error')}")
        repeats = Path(directory) / "repeats.csv"
        generate_repeats(repeats, 1_300_000)
        refused = measure("import", repeats)
        print(
            f"1,300,000 repeated summary rows ({repeats.stat().st_size / 2**20:.0f} MiB): "
            f"refused in CPU {refused['cpu']:.2f} s: {refused.get('error')}"
        )


def _summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    keys = {"cpu": "cpu", "wall": "wall", "peak": "peak_mib", "baseline": "baseline_mib"}
    return {name: statistics.median(float(run[key]) for run in runs) for name, key in keys.items()}


if __name__ == "__main__":
    main()
