"""The rubric engine: rubric files as data, compiled once, assessing facts documents.

Pure Python (stdlib, PyYAML, jsonschema): nothing in this package imports Django, so it can
be tested, benchmarked and reused without a database.
"""

from audits.rubric.engine import (
    ENGINE_VERSION,
    AssessmentResult,
    CategoryResult,
    CompiledRubric,
    CriterionResult,
    FactsError,
    GateResult,
    UsedFact,
    apply_overrides,
    assess,
    compile_rubric,
    diff_assessments,
)
from audits.rubric.loader import (
    RUBRICS_DIRECTORY,
    Rubric,
    available_rubrics,
    find_rubric,
    load_rubric,
    load_rubric_text,
)
from audits.rubric.schema import RubricError, rubric_errors, validate_rubric

__all__ = [
    "ENGINE_VERSION",
    "RUBRICS_DIRECTORY",
    "AssessmentResult",
    "CategoryResult",
    "CompiledRubric",
    "CriterionResult",
    "FactsError",
    "GateResult",
    "Rubric",
    "RubricError",
    "UsedFact",
    "apply_overrides",
    "assess",
    "available_rubrics",
    "compile_rubric",
    "diff_assessments",
    "find_rubric",
    "load_rubric",
    "load_rubric_text",
    "rubric_errors",
    "validate_rubric",
]
