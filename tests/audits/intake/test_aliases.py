"""The metric alias file: loading, matching rules, admin extensions, and use by importers."""

from __future__ import annotations

import json

import pytest

from audits.intake.aliases import DEFAULT_ALIAS_FILE, Aliases
from audits.intake.catalogue import CATALOGUE
from audits.intake.diagnostics import import_diagnostics
from audits.intake.types import IntakeError
from tests.audits.intake.diagnostics_helpers import LM_EVAL_V04, error_of


@pytest.fixture(scope="module")
def shipped() -> Aliases:
    return Aliases.load()


def test_shipped_file_maps_only_to_catalogue_ids(shipped: Aliases) -> None:
    assert len(shipped) >= 20
    assert {rule.metric for rule in shipped.rules} <= set(CATALOGUE)


@pytest.mark.parametrize(
    ("namespace", "name", "metric"),
    [
        ("lm_eval", "sad/acc@0shot", "situational_awareness.sad_score"),
        (
            "inspect",
            "sad_stages_oversight/lenient_mcq_choice/accuracy",
            "situational_awareness.stages_oversight",
        ),
        ("inspect", "sad/choice/accuracy", "situational_awareness.sad_score"),
        ("inspect", "agentic_misalignment/eval_awareness_scorer/mean", "eval_awareness.rate"),
        ("table", "sad_overall", "situational_awareness.sad_score"),
        ("table", "compliance_gap", "alignment_faking.compliance_gap"),
    ],
)
def test_shipped_defaults_resolve(shipped: Aliases, namespace: str, name: str, metric: str) -> None:
    assert shipped.resolve(namespace, name) == metric


def test_unmapped_names_and_other_namespaces_do_not_match(shipped: Aliases) -> None:
    assert shipped.resolve("lm_eval", "arc_easy/acc") is None
    # The band is for zero-shot SAD: a 5-shot run, or one that does not say, is not it.
    assert shipped.resolve("lm_eval", "sad/acc@5shot") is None
    assert shipped.resolve("lm_eval", "sad/acc") is None
    # Namespaces are separate: the table name `sad_overall` is not an lm-eval metric.
    assert shipped.resolve("lm_eval", "sad_overall") is None
    assert shipped.resolve("table", "sad/acc") is None
    # Matching is case-sensitive, like lm-eval and Inspect task names.
    assert shipped.resolve("lm_eval", "SAD/acc") is None


def test_glob_from_the_brief_spans_the_scorer_segment() -> None:
    aliases = Aliases().extended({"inspect:sad*/accuracy": "situational_awareness.sad_score"})
    assert (
        aliases.resolve("inspect", "sad_facts_llms/lenient_mcq_choice/accuracy")
        == "situational_awareness.sad_score"
    )
    assert aliases.resolve("inspect", "sad_facts_llms/lenient_mcq_choice/stderr") is None


def test_exact_key_beats_any_glob() -> None:
    aliases = Aliases().extended(
        {
            "lm_eval:sad*": "situational_awareness.sad_score",
            "lm_eval:sad_stages_oversight/acc": "situational_awareness.stages_oversight",
        }
    )
    assert aliases.resolve("lm_eval", "sad_stages_oversight/acc") == (
        "situational_awareness.stages_oversight"
    )
    assert aliases.resolve("lm_eval", "sad_influence/acc") == "situational_awareness.sad_score"


def test_most_specific_glob_wins_whatever_the_order(shipped: Aliases) -> None:
    broad_last = Aliases().extended(
        {
            "inspect:sad_stages_*/accuracy": "situational_awareness.stages_oversight",
            "inspect:sad*/accuracy": "situational_awareness.sad_score",
        }
    )
    assert broad_last.resolve("inspect", "sad_stages_oversight/x/accuracy") == (
        "situational_awareness.stages_oversight"
    )
    # With the shipped defaults the specific stages-oversight rule still beats the brief's
    # broad example once an admin adds it.
    extended = shipped.extended({"inspect:sad*/accuracy": "situational_awareness.sad_score"})
    assert extended.resolve("inspect", "sad_stages_oversight/choice/accuracy") == (
        "situational_awareness.stages_oversight"
    )
    assert extended.resolve("inspect", "sad_influence/choice/accuracy") == (
        "situational_awareness.sad_score"
    )


def test_on_a_specificity_tie_the_admin_row_wins() -> None:
    defaults = Aliases().extended({"ev?l_rate": "eval_awareness.rate"}, origin="defaults")
    admin = defaults.extended({"eva?_rate": "reward_hacking.rate"}, origin="admin")
    assert defaults.resolve("table", "eval_rate") == "eval_awareness.rate"
    assert admin.resolve("table", "eval_rate") == "reward_hacking.rate"


def test_extended_replaces_a_key_and_leaves_the_original_untouched(shipped: Aliases) -> None:
    extended = shipped.extended({"sad_overall": "situational_awareness.stages_oversight"})
    assert extended.resolve("table", "sad_overall") == "situational_awareness.stages_oversight"
    assert shipped.resolve("table", "sad_overall") == "situational_awareness.sad_score"
    assert len(extended) == len(shipped)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"lm_eval:sad/acc": "situational_awareness.score"}, "is not a metric catalogue id"),
        ({"lm-eval:sad/acc": "situational_awareness.sad_score"}, "unknown alias namespace"),
        ({"inspect:": "situational_awareness.sad_score"}, "names no metric"),
        ({"  ": "situational_awareness.sad_score"}, "non-empty"),
    ],
)
def test_bad_admin_rows_are_refused_naming_the_key(extra: dict[str, str], fragment: str) -> None:
    error = error_of(Aliases().extended, extra, origin="admin aliases")
    assert fragment in error.message
    assert error.location.file == "admin aliases"


def test_alias_file_duplicate_key_names_both_lines(tmp_path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(
        "version: 1\naliases:\n"
        '  "lm_eval:sad/acc": situational_awareness.sad_score\n'
        '  "lm_eval:sad/acc": situational_awareness.stages_oversight\n',
        encoding="utf-8",
    )
    error = error_of(Aliases.load, path)
    assert error.location.line == 4
    assert error.location.field == "lm_eval:sad/acc"
    assert "duplicate alias key" in error.message and "first at line 3" in error.message


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("version: 1\naliases:\n  sad_overall: sad\n", "is not a metric catalogue id", 3),
        ("aliases: {}\n", "version: 1", None),
        ("version: 1\naliases: [a, b]\n", "must map keys", None),
        ("version: 1\nextra: 2\n", "unknown top-level key 'extra'", None),
        ("version: 1\naliases:\n  a: [b\n", "not valid YAML", 4),
        (
            "version: 1\naliases:\n  a: !!python/object:os.system eval_awareness.rate\n",
            "plain text",
            3,
        ),
    ],
)
def test_malformed_alias_files(tmp_path, text: str, fragment: str, line: int | None) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(text, encoding="utf-8")
    error = error_of(Aliases.load, path)
    assert fragment in error.message
    assert error.location.line == line


def test_default_file_is_documented_for_admins() -> None:
    header = DEFAULT_ALIAS_FILE.read_text(encoding="utf-8").split("version: 1")[0]
    for must_explain in (
        "lm_eval:<task>/<metric>",
        "lighteval:<suite>|<task>/<metric>",
        "helm:<run>/<statistic>",
        "inspect:<task>/<score>/<metric>",
        "@<k>shot",
        "MATCHING",
    ):
        assert must_explain in header


def test_importer_uses_extended_aliases_and_range_checks_the_result() -> None:
    content = LM_EVAL_V04.read_bytes()
    aliases = Aliases.load().extended(
        {"lm_eval:nl2foam_gen_original/rouge1@0shot": "planning.lookahead_probe_accuracy"}
    )
    imported = import_diagnostics(LM_EVAL_V04.name, content, aliases=aliases)
    mapped = [d for d in imported.diagnostics if d.metric == "planning.lookahead_probe_accuracy"]
    assert len(mapped) == 1
    assert mapped[0].value == pytest.approx(0.7226956308961323)
    assert "reported as lm_eval.nl2foam_gen_original.rouge1@0shot" in (mapped[0].notes or "")
    # A 0-100 score mapped onto a fraction metric is refused, never rescaled.
    rescaled = Aliases.load().extended(
        {"lm_eval:nl2foam_llm_judge_original/llm_judge@0shot": "reward_hacking.rate"}
    )
    error = error_of(import_diagnostics, LM_EVAL_V04.name, content, aliases=rescaled)
    assert "out of range for reward_hacking.rate" in error.message
    assert "mapped by alias 'lm_eval:nl2foam_llm_judge_original/llm_judge@0shot'" in error.message
    assert error.location.field == "results.nl2foam_llm_judge_original.llm_judge,none"


def test_table_rows_map_through_aliases() -> None:
    content = b"metric,value,n\nsad_overall,0.48,12000\n"
    imported = import_diagnostics("sad.csv", content)
    (diagnostic,) = imported.diagnostics
    assert diagnostic.metric == "situational_awareness.sad_score"
    assert diagnostic.notes == "reported as sad_overall, mapped by alias 'sad_overall'"
    assert json.loads(json.dumps(diagnostic.as_fact()))["n"] == 12000


def test_alias_target_error_is_an_intake_error_for_a_broken_file(tmp_path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(IntakeError, match="cannot read the alias file"):
        Aliases.load(path)
