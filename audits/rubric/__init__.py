"""The rubric engine: rubric files as data, compiled once, assessing facts documents.

Pure Python (stdlib, PyYAML, jsonschema): nothing in this package imports Django, so it can
be tested, benchmarked and reused without a database.

Modules, by concern: `vocabulary` (the facts a rubric may read), `schema` and `checks`
(validation), `loader` (files), `conditions` (the condition language's three-valued
meaning), `plan` (a rubric read once), `scoring` (exact arithmetic), `scorer` (generated
scoring functions), `explain` (explanations), `results` (stored form), `scales` (where a
diagnostic value falls), `engine` (compile, assess, overrides).
"""

from audits.rubric.checks import rubric_errors, validate_rubric
from audits.rubric.engine import (
    ENGINE_VERSION,
    CompiledRubric,
    apply_overrides,
    assess,
    compile_rubric,
)
from audits.rubric.errors import FactsError, RubricError
from audits.rubric.loader import (
    RUBRICS_DIRECTORY,
    Rubric,
    available_rubrics,
    find_rubric,
    load_rubric,
    load_rubric_text,
)
from audits.rubric.results import (
    AssessmentResult,
    CategoryResult,
    CriterionResult,
    GateResult,
    UsedFact,
    diff_assessments,
    evidence_gaps,
)
from audits.rubric.scales import DiagnosticScale, ScaleBand, diagnostic_scales

__all__ = [
    "ENGINE_VERSION",
    "RUBRICS_DIRECTORY",
    "AssessmentResult",
    "CategoryResult",
    "CompiledRubric",
    "CriterionResult",
    "DiagnosticScale",
    "FactsError",
    "GateResult",
    "Rubric",
    "RubricError",
    "ScaleBand",
    "UsedFact",
    "apply_overrides",
    "assess",
    "available_rubrics",
    "compile_rubric",
    "diagnostic_scales",
    "diff_assessments",
    "evidence_gaps",
    "find_rubric",
    "load_rubric",
    "load_rubric_text",
    "rubric_errors",
    "validate_rubric",
]
