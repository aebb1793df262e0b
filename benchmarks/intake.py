"""Per-sample diagnostics aggregation: a 1,000,000-row CSV through `import_diagnostics`.

    .venv/bin/python benchmarks/intake.py [--rows 1000000] [--rounds 3] [--seed 1]

Generates a per-sample table (metric, sample_id, value; four 0/1 metrics, one of them
through an alias, and two continuous ones) into a temporary directory, then imports it in
a fresh child process per round, so the peak memory reported (ru_maxrss) is that of the
process doing the import: interpreter, pandas and all. Targets: <= 10 s, <= 1 GiB.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0
TARGET_PEAK_MIB = 1024.0

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


def child(path: Path) -> None:
    """Import one file and report this process's own time and peak memory as JSON."""
    from audits.intake.diagnostics import import_diagnostics

    content = path.read_bytes()
    baseline_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    imported = import_diagnostics(path.name, content)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mib": peak_mib,
                "baseline_mib": baseline_mib,
                "diagnostics": [
                    {"metric": d.metric, "n": d.n, "value": round(d.value, 4), "method": d.method}
                    for d in imported.diagnostics
                ],
            }
        )
    )


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "nproc": str(len(os.sched_getaffinity(0))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if args.generate:
        generate(args.generate, args.rows, args.seed)
        return

    print("machine:", ", ".join(f"{key} {value}" for key, value in machine().items()))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "per-sample.csv"
        started = time.perf_counter()
        # In its own process: Linux carries a process's peak RSS across fork and exec, so a
        # parent holding the generated frame would inflate every child's figure.
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                str(path),
                "--rows",
                str(args.rows),
                "--seed",
                str(args.seed),
            ],
            check=True,
        )
        print(
            f"generated {args.rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB "
            f"in {time.perf_counter() - started:.1f} s"
        )
        runs = []
        for _ in range(args.rounds):
            output = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs.append(json.loads(output))
    for diagnostic in runs[0]["diagnostics"]:
        print(
            f"  {diagnostic['metric']:<34} n={diagnostic['n']:>7,} "
            f"mean={diagnostic['value']:<9} {diagnostic['method']}"
        )
    seconds = [run["seconds"] for run in runs]
    peaks = [run["peak_mib"] for run in runs]
    median, worst_peak = statistics.median(seconds), max(peaks)
    baseline = max(run["baseline_mib"] for run in runs)
    print(
        f"import_diagnostics: median {median:.2f} s (runs: "
        + ", ".join(f"{value:.2f}" for value in seconds)
        + f"); peak RSS of the importing process {worst_peak:.0f} MiB "
        f"({baseline:.0f} MiB before the import: interpreter, libraries, file bytes)"
    )
    met = median <= TARGET_SECONDS and worst_peak <= TARGET_PEAK_MIB
    print(
        f"targets (<= {TARGET_SECONDS:.0f} s, <= {TARGET_PEAK_MIB:.0f} MiB): "
        + ("met" if met else "MISSED")
    )


if __name__ == "__main__":
    main()
