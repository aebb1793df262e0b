"""Assessments per second on one core: `assess` alone, and `assess` + `to_dict()`.

    taskset -c 1 .venv/bin/python benchmarks/rubric.py [--rubric URN@VERSION] \
        [--documents 4000] [--rounds 7] [--seed 1]

Generates varied facts documents with `random.Random(seed)` (about one filing fact in ten
missing, 60% of the catalogue diagnostics present) and a provenance entry for every filing
fact, as the intake gives them; compiles each rubric once (every shipped version by
default); then, round after round, times each workload over all documents:

- `assess` (the anchor): scores, tier, gates and coverage, as the portal calls it;
- `assess + to_dict`: what the portal stores, explanations and used facts' sources
  included — the figure with a target (≥ 10,000/s);
- `assess + to_dict` without provenance, and the facts hash alone, to trace a regression.

Workloads are interleaved within each round, so load from other processes falls on all of
them alike. Each is reported as the median round, in wall time and in this process's CPU
time (`time.process_time()`), which other processes on the machine disturb much less; the
load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audits.rubric import CompiledRubric, available_rubrics, compile_rubric, find_rubric
from audits.rubric.engine import facts_sha256
from audits.rubric.vocabulary import CATALOGUE_METRICS, FILING_FACTS

RUBRIC_URN = "urn:govportal:rubric:mesa-optimization"
TARGET_PER_SECOND = 10_000  # assess + to_dict, CPU time (issue 17)

_NUMBER_RANGES = {
    "model.parameters": (6, 13),  # powers of ten
    "training.compute_flop": (18, 27),
    "training.task_families": (0, 4),
    "training.rl_horizon_steps": (0, 5),
    "deployment.context_window_tokens": (3, 6),
}
_PERCENTAGE_POINTS = {"alignment_faking.compliance_gap", "sandbagging.accuracy_drop"}


def generate_facts(generator: random.Random) -> dict[str, Any]:
    """One plausible facts document; about one fact in ten is missing."""
    facts: dict[str, Any] = {
        "filing_schema": "govportal/filing/1",
        "model": {"name": f"Model {generator.randrange(10_000)}", "version": "1.0"},
        "training": {},
        "deployment": {},
        "transparency": {},
    }
    for path, kind in FILING_FACTS.items():
        section, _, key = path.partition(".")
        if kind.kind == "text" or generator.random() < 0.1:
            continue
        if kind.kind == "enum":
            value: Any = generator.choice(kind.allowed)
        elif kind.kind == "boolean":
            value = generator.random() < 0.5
        elif kind.kind == "list":
            value = generator.sample(kind.allowed, generator.randint(1, 3))
        else:
            low, high = _NUMBER_RANGES[path]
            value = float(f"{10 ** generator.uniform(low, high):.3g}")
            if path in ("training.task_families", "training.rl_horizon_steps"):
                value = int(value)
        facts[section][key] = value
    diagnostics = []
    for metric in CATALOGUE_METRICS:
        if generator.random() < 0.6:
            if metric in _PERCENTAGE_POINTS:
                value = round(generator.uniform(-2, 25), 2)
            elif metric == "planning.lookahead_steps":
                value = generator.randint(0, 30)
            else:
                value = round(generator.random(), 3)
            diagnostics.append({"metric": metric, "value": value, "source": "diagnostics.csv"})
    generator.shuffle(diagnostics)
    facts["diagnostics"] = diagnostics
    return facts


def provenance_for(facts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    provenance = {}
    line = 1
    for section in ("model", "training", "deployment", "transparency"):
        for key in facts[section]:
            line += 1
            path = f"{section}.{key}"
            provenance[path] = {"file": "filing.yaml", "line": line, "field": path}
    return provenance


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def workloads(
    compiled: CompiledRubric,
    documents: list[dict[str, Any]],
    provenances: list[dict[str, dict[str, Any]]],
) -> dict[str, Callable[[], None]]:
    assess = compiled.assess
    pairs = list(zip(documents, provenances, strict=True))

    def assess_alone() -> None:
        for facts, provenance in pairs:
            assess(facts, provenance)

    def assess_and_store() -> None:
        for facts, provenance in pairs:
            assess(facts, provenance).to_dict()

    def assess_and_store_without_provenance() -> None:
        for facts in documents:
            assess(facts).to_dict()

    def hash_alone() -> None:
        for facts in documents:
            facts_sha256(facts)

    return {
        "assess (anchor)": assess_alone,
        "assess + to_dict": assess_and_store,
        "… without provenance": assess_and_store_without_provenance,
        "facts sha256 alone": hash_alone,
    }


def measure(
    functions: dict[str, Callable[[], None]], rounds: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Per workload, the wall and CPU seconds of each round; workloads interleaved."""
    timings: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in functions}
    for function in functions.values():
        function()  # warm up
    for _ in range(rounds):
        for name, function in functions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            timings[name][0].append(time.perf_counter() - wall)
            timings[name][1].append(time.process_time() - cpu)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rubric", metavar="URN@VERSION", help="default: every shipped version")
    parser.add_argument("--documents", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()

    shipped = available_rubrics()
    rubrics = (
        [find_rubric(shipped, arguments.rubric)]
        if arguments.rubric
        else [rubric for rubric in shipped if rubric.urn == RUBRIC_URN]
    )
    generator = random.Random(arguments.seed)
    documents = [generate_facts(generator) for _ in range(arguments.documents)]
    provenances = [provenance_for(facts) for facts in documents]
    count = len(documents)

    print(f"python {platform.python_version()} on {platform.platform()}")
    print(f"cpu {cpu_model()}, nproc {os.cpu_count()} (the benchmark runs on one core)")
    seed, rounds = arguments.seed, arguments.rounds
    print(f"{count} generated facts documents (seed {seed}), median of {rounds} rounds")
    verdicts = []
    for rubric in rubrics:
        compiled = compile_rubric(rubric)
        print()
        print(f"rubric {rubric.reference} ({rubric.sha256[:12]}), load average {load_average()}")
        tiers: dict[str, int] = {}
        for facts in documents:
            tier = compiled.assess(facts).tier
            tiers[tier] = tiers.get(tier, 0) + 1
        print(f"  tiers: {', '.join(f'{tier} {n}' for tier, n in sorted(tiers.items()))}")
        timings = measure(workloads(compiled, documents, provenances), arguments.rounds)
        print(f"  {'':<24} {'CPU time':>22}   {'wall time':>22}")
        for name, (walls, cpus) in timings.items():
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            print(
                f"  {name:<24} {count / cpu:>9,.0f} /s {1e6 * cpu / count:6.1f} µs"
                f"   {count / wall:>9,.0f} /s {1e6 * wall / count:6.1f} µs"
                f"  (wall rounds {count / max(walls):,.0f}–{count / min(walls):,.0f} /s)"
            )
        stored = count / statistics.median(timings["assess + to_dict"][1])
        verdicts.append(f"{rubric.version} {'meets' if stored >= TARGET_PER_SECOND else 'misses'}")
        print(f"  load average after: {load_average()}")
    print()
    print(f"target {TARGET_PER_SECOND:,}/s for assess + to_dict (CPU time): {', '.join(verdicts)}")


if __name__ == "__main__":
    main()
