"""95% intervals: from a reported standard error, and for the mean of per-sample values.

A stderr interval is value ± 1.96·stderr, except for proportions: a share of 0/1 outcomes
(accuracy, exact match, rates) with a known sample count gets the Wilson score interval,
and any proportion's interval is kept inside [0, 1], where the true value lies.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from audits.intake.types import Diagnostic

Z_95 = NormalDist().inv_cdf(0.975)
STDERR_METHOD = "reported stderr; normal 95% interval (value ± 1.96·stderr)"

# Metric names (as harnesses write them, without filter or few-shot suffix) that are the
# share of samples with a 0/1 outcome, and others that are bounded by [0, 1].
_BINARY = frozenset(
    {
        "acc",
        "acc_norm",
        "accuracy",
        "exact_match",
        "quasi_exact_match",
        "prefix_exact_match",
        "em",
        "mc1",
        "match",
        "correct",
        "prompt_level_strict_acc",
        "prompt_level_loose_acc",
    }
)
_BOUNDED = frozenset(
    {
        "f1",
        "mc2",
        "precision",
        "recall",
        "auroc",
        "auc",
        "roc_auc",
        "inst_level_strict_acc",
        "inst_level_loose_acc",
    }
)
_BINARY_SUFFIXES = ("_rate", "_acc", "_accuracy", "_exact_match")
_BOUNDED_SUFFIXES = ("_f1", "_precision", "_recall", "_auroc")
_PASS_AT_K = re.compile(r"pass@\d+")

Proportion = Literal["binary", "bounded"]


def proportion_kind(name: str) -> Proportion | None:
    """Whether metric `name` is a share of 0/1 outcomes ("binary"), another value bounded by
    [0, 1] ("bounded"), or neither (None). Judged by the name harnesses give it."""
    base = name.lower().split(",", 1)[0].split(".", 1)[0].split("@", 1)[0]
    if base in _BINARY or base == "rate" or base.endswith(_BINARY_SUFFIXES):
        return "binary"
    if base in _BOUNDED or base.endswith(_BOUNDED_SUFFIXES) or _PASS_AT_K.fullmatch(base):
        return "bounded"
    return None


def stderr_interval(
    diagnostic: Diagnostic, stderr: float, *, name: str, basis: str = "reported stderr"
) -> None:
    """Give `diagnostic` the 95% interval its `stderr` implies (see the module).

    `name` is the metric as the source named it (`acc`, `exact_match.strict-match`);
    `basis` says where the standard error came from, for the method text.
    """
    value = diagnostic.value
    kind = proportion_kind(name) if 0.0 <= value <= 1.0 else None
    if kind == "binary" and diagnostic.n:
        low, high = wilson_interval(value, diagnostic.n)
        diagnostic.ci_low, diagnostic.ci_high = min(low, value), max(high, value)
        samples = f"{diagnostic.n:,} sample{'s' if diagnostic.n != 1 else ''}"
        diagnostic.method = (
            f"Wilson score 95% interval for a proportion of {samples} ({basis} {stderr:.4g})"
        )
        return
    low, high = value - Z_95 * stderr, value + Z_95 * stderr
    diagnostic.method = STDERR_METHOD.replace("reported stderr", basis)
    if kind is not None and (low < 0.0 or high > 1.0):
        low, high = max(low, 0.0), min(high, 1.0)
        diagnostic.method += "; clipped to [0, 1], the range of a proportion"
    diagnostic.ci_low, diagnostic.ci_high = low, high


@dataclass(frozen=True)
class SampleEstimate:
    """Mean of per-sample values with its 95% interval and how it was computed."""

    count: int
    mean: float
    ci_low: float | None
    ci_high: float | None
    method: str


def aggregate_samples_estimate(
    *, count: int, mean: float, std: float, minimum: float, maximum: float, binary: bool
) -> SampleEstimate:
    """The 95% interval for a mean: Wilson score for 0/1 samples, Student t otherwise.

    `std` is the sample standard deviation (ddof 1). One sample has no interval.
    """
    # Summing floats can put the mean of identical values an ulp outside them.
    mean = min(max(mean, minimum), maximum)
    samples = f"{count:,} sample{'s' if count != 1 else ''}"
    if binary:
        low, high = wilson_interval(mean, count)
        method = f"mean of {samples}; Wilson score 95% interval"
    elif count < 2:
        return SampleEstimate(count, mean, None, None, f"mean of {samples}; no interval")
    else:
        half = t_quantile_975(count - 1) * std / math.sqrt(count)
        low, high = mean - half, mean + half
        method = f"mean of {samples}; Student t 95% interval (df {count - 1})"
    return SampleEstimate(count, mean, min(low, mean), max(high, mean), method)


def t_quantile_975(degrees_of_freedom: int) -> float:
    """The 97.5% quantile of Student's t distribution."""
    # scipy.special rather than scipy.stats: the same function, a sixth of the import cost.
    from scipy.special import stdtrit

    return float(stdtrit(degrees_of_freedom, 0.975))


def wilson_interval(proportion: float, count: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion observed in `count` 0/1 samples."""
    z2 = z * z
    denominator = 1 + z2 / count
    centre = (proportion + z2 / (2 * count)) / denominator
    half = z * math.sqrt(proportion * (1 - proportion) / count + z2 / (4 * count * count))
    half /= denominator
    return max(0.0, centre - half), min(1.0, centre + half)
