"""Assessments per second for rubric v1 on one core.

    .venv/bin/python benchmarks/rubric.py [--documents 4000] [--rounds 7] [--seed 1]

Generates varied facts documents with `random.Random(seed)`, compiles the rubric once,
then times `CompiledRubric.assess` over all of them, several rounds, and prints the median
(and the slowest and fastest round). It also times the parts (facts hashing alone,
assess + to_dict, assess with provenance, with and without to_dict) so a regression can be
traced to where it happened. `assess` computes levels, scores, tier, gates and coverage;
the criteria's explanations and used facts are written when first read, so to_dict()
includes that work.
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

from audits.rubric import compile_rubric, load_rubric
from audits.rubric.engine import facts_sha256
from audits.rubric.loader import RUBRICS_DIRECTORY
from audits.rubric.vocabulary import CATALOGUE_METRICS, FILING_FACTS

RUBRIC_FILE = RUBRICS_DIRECTORY / "mesa-optimization-1.0.0.yaml"

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


def per_second(function: Callable[[], None], count: int, rounds: int) -> tuple[float, float, float]:
    """Assessments per second: the median round, the slowest and the fastest."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return count / statistics.median(timings), count / max(timings), count / min(timings)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()

    generator = random.Random(arguments.seed)
    documents = [generate_facts(generator) for _ in range(arguments.documents)]
    provenances = [provenance_for(facts) for facts in documents]
    compiled = compile_rubric(load_rubric(RUBRIC_FILE))
    assess = compiled.assess
    count = len(documents)

    def assess_all() -> None:
        for facts in documents:
            assess(facts)

    def hash_all() -> None:
        for facts in documents:
            facts_sha256(facts)

    def assess_and_serialize_all() -> None:
        for facts in documents:
            assess(facts).to_dict()

    def assess_with_provenance_all() -> None:
        for facts, provenance in zip(documents, provenances, strict=True):
            assess(facts, provenance)

    def assess_with_provenance_and_serialize_all() -> None:
        for facts, provenance in zip(documents, provenances, strict=True):
            assess(facts, provenance).to_dict()

    assess_all()  # warm up
    rounds = arguments.rounds
    figures = {
        "assess": per_second(assess_all, count, rounds),
        "facts sha256 alone": per_second(hash_all, count, rounds),
        "assess + to_dict": per_second(assess_and_serialize_all, count, rounds),
        "assess with provenance": per_second(assess_with_provenance_all, count, rounds),
        "… with provenance + to_dict": per_second(
            assess_with_provenance_and_serialize_all, count, rounds
        ),
    }
    tiers: dict[str, int] = {}
    for facts in documents:
        tier = assess(facts).tier
        tiers[tier] = tiers.get(tier, 0) + 1

    print(f"rubric {compiled.urn}@{compiled.version} ({compiled.sha256[:12]})")
    print(f"python {platform.python_version()} on {platform.platform()}")
    print(f"cpu {cpu_model()}, nproc {os.cpu_count()} (benchmark uses one core)")
    print(f"{count} generated facts documents (seed {arguments.seed}), median of {rounds} rounds")
    print(f"tiers: {', '.join(f'{tier} {n}' for tier, n in sorted(tiers.items()))}")
    for name, (value, slowest, fastest) in figures.items():
        print(
            f"  {name:<28} {value:>10,.0f} /s  ({1e6 / value:6.1f} µs each;"
            f" rounds {slowest:,.0f}–{fastest:,.0f} /s)"
        )
    target = 20_000
    verdict = "meets" if figures["assess"][0] >= target else "misses"
    print(f"target {target:,}/s: {verdict}")


if __name__ == "__main__":
    main()
