"""The portal's forms: they parse and validate input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms

from audits.models import Membership, Submission
from audits.selectors import QUEUE_AGES, QUEUE_SORTS, TIER_ORDER, QueueFilters
from audits.web.presenters import humanize


class NewFilingForm(forms.Form):
    model_name = forms.CharField(
        label="Model name", max_length=200, help_text="As your lab names it, e.g. Atlas."
    )
    model_version = forms.CharField(
        label="Model version", max_length=100, help_text="The version this filing covers."
    )


class _UploadForm(forms.Form):
    """Three upload forms share a page: each gets its own id prefix.

    `replace` names an upload of the revision being worked on that the file replaces.
    """

    id_prefix = "upload"
    replace = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ModelCardForm(_UploadForm):
    id_prefix = "card"
    file = forms.FileField(
        label="Model card or filing",
        help_text=(
            "A Hugging Face README (YAML front matter, optionally a govportal: block), "
            "Model Card Toolkit JSON, CycloneDX ML-BOM, plain markdown, or a native filing "
            "(YAML or JSON)."
        ),
    )


class DiagnosticsForm(_UploadForm):
    id_prefix = "diagnostics"

    file = forms.FileField(
        label="Diagnostics file",
        help_text=(
            "A CSV/TSV/JSON table (metric, value, optional ci_low, ci_high, n, suite; or one "
            "row per sample with sample_id), lm-evaluation-harness results*.json, or an "
            "Inspect log (.json or .eval)."
        ),
    )
    supersedes = forms.CharField(
        label="Supersedes (optional)",
        required=False,
        max_length=255,
        help_text="The name of an earlier diagnostics file whose conflicting values this replaces.",
    )


class EvidenceForm(_UploadForm):
    id_prefix = "evidence"

    file = forms.FileField(label="Evidence file", help_text="A study, an audit report, a log.")
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=1000,
        help_text="What this file shows, in a line.",
    )


class SubmitForm(forms.Form):
    accuracy_declaration = forms.BooleanField(
        label="I make this declaration",
        error_messages={"required": "Tick the declaration to submit."},
    )


class OverrideResolutionForm(forms.Form):
    criterion = forms.CharField(max_length=20)
    resolution = forms.ChoiceField(choices=[("confirm", "Confirm"), ("drop", "Drop")])
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("resolution") == "drop" and not (cleaned.get("reason") or "").strip():
            raise forms.ValidationError("Say why the override is dropped.")
        return cleaned


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 2}))
    criterion = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)


class OverrideForm(forms.Form):
    criterion = forms.CharField(widget=forms.HiddenInput, max_length=20)
    level = forms.TypedChoiceField(
        label="Level",
        coerce=int,
        choices=[(level, f"{level}") for level in range(4)],
    )
    reason = forms.CharField(
        label="Justification",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required. It is printed in the report beside the automated level.",
    )


class DecisionForm(forms.Form):
    DECISIONS = (
        ("request_changes", "Request changes"),
        ("accept", "Accept"),
        ("reject", "Reject"),
    )
    decision = forms.ChoiceField(label="Decision", choices=DECISIONS, widget=forms.RadioSelect)
    rationale = forms.CharField(
        label="Rationale",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required. The lab reads it, and it is printed in the report.",
    )
    answer_by = forms.DateField(
        label="The lab answers by (changes only, optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    conditions = forms.CharField(
        label="Conditions or outstanding items",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, with an acceptance: one per line; the final report lists them.",
    )

    def clean_conditions(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data.get("conditions", "").splitlines()]
        conditions = [line for line in lines if line]
        if len(conditions) > 50:
            raise forms.ValidationError("At most 50 conditions, one per line.")
        if any(len(condition) > 1000 for condition in conditions):
            raise forms.ValidationError("A condition is at most 1,000 characters.")
        return conditions


class AssignForm(forms.Form):
    reviewer = forms.TypedChoiceField(label="Reviewer", coerce=int)

    def __init__(self, *args: Any, reviewers: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reviewer"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [
            (m.user_id, f"{m.user.get_full_name() or m.user.username} ({m.role_label})")
            for m in reviewers
        ]


class QueueFilterForm(forms.Form):
    tier = forms.ChoiceField(
        required=False, choices=[("", "Any tier"), *((t, humanize(t)) for t in TIER_ORDER)]
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status")]
        + [(value, label) for value, label in Submission.Status.choices if value != "draft"],
    )
    lab = forms.ChoiceField(required=False, choices=[("", "Any lab")])
    age = forms.ChoiceField(
        label="Waiting",
        required=False,
        choices=[("", "Any age"), *((key, f"{days}+ days") for key, days in QUEUE_AGES.items())],
    )
    evidence = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any evidence"),
            ("insufficient", "Insufficient evidence"),
            ("sufficient", "Sufficient evidence"),
        ],
    )
    due = forms.ChoiceField(
        required=False,
        choices=[("", "Any due date"), ("overdue", "Overdue"), ("week", "Due within 7 days")],
    )
    mine = forms.BooleanField(label="Assigned to me", required=False)
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in QUEUE_SORTS], widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, labs: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["lab"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Any lab"), *labs]

    def filters(self) -> QueueFilters:
        if not self.is_valid():
            return QueueFilters()
        data = self.cleaned_data
        return QueueFilters(
            tier=data["tier"],
            status=data["status"],
            lab=data["lab"],
            age=data["age"],
            evidence=data["evidence"],
            due=data["due"],
            mine=data["mine"],
            sort=data["sort"] or "-submitted",
        )


class MemberInviteForm(forms.Form):
    username = forms.CharField(label="Username", max_length=150)
    email = forms.EmailField(label="Email")
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices)


class APIKeyForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="What uses it, e.g. “CI pipeline”."
    )
    scope = forms.ChoiceField(label="Scope", choices=[])
    expires_at = forms.DateField(
        label="Expires on (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, scopes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["scope"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = scopes
