"""The bad-input corpus (tests/data/bad): each file gives one clear error, fast, never a crash."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audits.intake import IntakeError, IntakeErrors, import_file
from audits.intake.filing import import_filing
from audits.intake.yaml_safe import load_yaml
from tests.audits.intake.cards_support import BAD, FILING_HEAD

# file -> (message fragment, line, field) the first error must carry.
CORPUS: dict[str, tuple[str, int | None, str | None]] = {
    "truncated.yaml": ("the file looks truncated", 7, None),
    "truncated.json": ("the file looks truncated", 2, None),
    "garbage.bin": ("binary data, not a text format", None, None),
    "document.pdf": ("a PDF document", None, None),
    "archive.gz": ("a gzip archive", None, None),
    "latin1.yaml": ("byte 116 (0xe9) on line 6 is not valid UTF-8", 6, None),
    "utf16.yaml": ("UTF-16", 1, None),
    "python-tag.yaml": ("python/object/apply:os.system' is not allowed", 7, None),
    "alias-bomb.yaml": ("alias bomb", 7, None),
    "deep.json": ("nested too deeply", None, None),
    "deep.yaml": ("nesting deeper than 64 levels", 2, None),
    "nan.json": ("must be a finite number, got nan", None, "diagnostics[0].value"),
    "inf.yaml": ("must be a finite number, got inf", 6, "model.parameters"),
    "negative-count.yaml": ("must be >= 0", 7, "training.task_families"),
    "fraction-out-of-range.yaml": ("it must be in [0, 1]", 8, "diagnostics[0].value"),
    "percentage-out-of-range.yaml": ("it must be in [-100, 100]", 10, "diagnostics[1].value"),
    "unknown-key.yaml": ("unknown key model.colour", 6, "model.colour"),
    "wrong-enum.yaml": (
        "allowed values: transformer, mixture_of_experts, recurrent, state_space, "
        "convolutional, hybrid, other",
        6,
        "model.architecture",
    ),
    "wrong-type.yaml": ("must be true or false, got text 'yes'", 7, "deployment.tool_use"),
    "duplicate-key.yaml": ("duplicate key 'name' (first given on line 3)", 6, None),
    "multiple-documents.yaml": ("expected a single document", 6, None),
    "empty.yaml": ("the file is empty", None, None),
    "blank.md": ("the file is empty", None, None),
    "bad-govportal.md": ("must be >= 0", 5, "govportal.training.rl_horizon_steps"),
    "bad-front-matter.md": ("not valid YAML", 3, None),
    "no-ml-component.cdx.json": ("no component of type machine-learning-model", None, "components"),
    # NUL characters (PostgreSQL cannot store them), escaped or raw, are refused where they are.
    "nul-escape.json": ("this text contains a NUL character ('Atlas\\x00')", None, "model.name"),
    "nul-escape.yaml": ("contains a NUL character ('Example\\x00Lab')", 5, "model.developer"),
    "nul-in-card.md": ("contains a NUL character (line 7, column 8)", 7, None),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_input_gives_its_error(name):
    fragment, line, field = CORPUS[name]
    with pytest.raises(IntakeError) as caught:
        import_file(name, (BAD / name).read_bytes())
    error = caught.value
    first = error.errors[0] if isinstance(error, IntakeErrors) else error
    assert fragment in first.message
    assert first.location.file == name
    assert first.location.line == line
    assert first.location.field == field


def test_every_bad_file_has_its_expected_error():
    # A file added to tests/data/bad without an entry above would never be checked.
    on_disk = {path.name for path in BAD.iterdir() if path.is_file() and path.suffix != ".md"}
    on_disk |= {path.name for path in BAD.glob("*.md") if path.name != "README.md"}
    assert on_disk == set(CORPUS)


@pytest.mark.parametrize(
    "path",
    sorted(path for path in BAD.rglob("*") if path.is_file()),
    ids=lambda path: str(path.relative_to(BAD)),
)
def test_every_bad_file_gets_a_media_type_when_filed_as_evidence(path):
    # Evidence is any file; sniffing its type must never fail, whatever it holds
    # (deep.json nests 50,000 levels, past the JSON parser's recursion limit).
    from audits.services.files import content_type_sniff

    assert content_type_sniff(path.read_bytes())


def test_deeply_nested_json_evidence_is_inert_text():
    from audits.services.files import content_type_sniff

    assert content_type_sniff((BAD / "deep.json").read_bytes()) == "text/plain"


def test_alias_bomb_within_the_alias_count_is_still_refused():
    # Few aliases, huge expansion: 10 levels of 10 aliases each would be 10**10 nodes.
    levels = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for level in range(1, 6):
        levels.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    with pytest.raises(IntakeError, match="alias bomb"):
        load_yaml("\n".join(levels), source="bomb.yaml")


def test_recursive_alias_is_refused():
    with pytest.raises(IntakeError, match="containing itself"):
        load_yaml("a: &a [*a]\n", source="loop.yaml")


def test_yaml_1_1_booleans_and_octals_do_not_surprise():
    loaded = load_yaml("language: [no, en]\ncode: 012\n", source="x.yaml")
    assert loaded.value == {"language": ["no", "en"], "code": 12}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_filing_parser_raises_only_intake_errors_on_text(text):
    with contextlib.suppress(IntakeError):
        import_filing("fuzz.yaml", text.encode("utf-8", errors="surrogatepass"))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_filing_parser_raises_only_intake_errors_on_bytes(content):
    with contextlib.suppress(IntakeError):
        import_filing("fuzz.bin", content)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_filing_parser_on_structured_yaml(value):
    import yaml

    text = FILING_HEAD + yaml.safe_dump({"training": value, "diagnostics": value})
    with contextlib.suppress(IntakeError):
        import_filing("fuzz.yaml", text.encode())
