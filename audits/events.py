"""Audit actions the rest of the portal reacts to once they commit, and how people read them.

Every state change writes an audit event (audits/services/audit_log.py); an event whose
action is listed here is also handed to the `audits.event_dispatch` task through the
outbox, which tells the people and the systems that follow the filing
(audits/services/event_dispatch.py).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

EVENT_DISPATCH_TASK = "audits.event_dispatch"
DISPATCHED_ACTIONS: frozenset[str] = frozenset(
    {
        "submission.submit",
        "submission.assign",
        "submission.request_changes",
        "submission.accept",
        "submission.reject",
        "submission.review_due",
        "assessment.run",
        "comment.add",
        "report.issue",
        "api_key.expiry_warning",
        "audit_log.verify",
    }
)


@dataclass(frozen=True)
class Describer:
    """How one action reads: a short label (filters) and a sentence (the trail, exports)."""

    label: str
    sentence: str | Callable[[Mapping[str, Any]], str]


def _verify_sentence(fields: Mapping[str, Any]) -> str:
    if fields.get("intact"):
        return f"The audit chain verified ({fields.get('verified_events', '?')} events intact)."
    return f"The audit chain did NOT verify: {fields.get('break', 'no reason recorded')}."


def _comment_sentence(fields: Mapping[str, Any]) -> str:
    on = f" on criterion {fields['criterion']}" if fields.get("criterion") else ""
    return f"{fields['actor']} commented{on} on {fields['object']}."


ACTIONS: dict[str, Describer] = {
    # The filing's life
    "submission.create": Describer(
        "Filing opened", "{actor} opened filing {object} for {model} {model_version}."
    ),
    "submission.submit": Describer(
        "Filing submitted", "{actor} submitted {object}, revision {revision}."
    ),
    "submission.start_review": Describer(
        "Review started", "{actor} started the review of {object}."
    ),
    "submission.assign": Describer(
        "Reviewer assigned", "{actor} assigned {object} to {assigned_to}."
    ),
    "submission.request_changes": Describer(
        "Changes requested",
        "{actor} requested changes to {object}, revision {revision}: “{rationale}”",
    ),
    "submission.accept": Describer("Filing accepted", "{actor} accepted {object}: “{rationale}”"),
    "submission.reject": Describer("Filing rejected", "{actor} rejected {object}: “{rationale}”"),
    "submission.review_due": Describer(
        "Review due", "The review of {object}, revision {revision}, is due on {due_on} ({stage})."
    ),
    "model_card.attach": Describer(
        "Model card attached",
        "{actor} attached the model card {file} to {object}, revision {revision}.",
    ),
    "diagnostics.attach": Describer(
        "Diagnostics attached",
        "{actor} attached diagnostics {file} to {object}, revision {revision}.",
    ),
    "evidence.attach": Describer(
        "Evidence attached", "{actor} attached evidence {file} to {object}, revision {revision}."
    ),
    "comment.add": Describer("Comment", _comment_sentence),
    "assessment.run": Describer(
        "Assessed",
        "{object}, revision {revision}, assessed under {rubric}: tier {tier} ({overall_score}).",
    ),
    "assessment.rescore": Describer("Re-scored", "{object} re-scored under {rubric}: tier {tier}."),
    "assessment.override": Describer(
        "Criterion overridden",
        "{actor} overrode {criterion} of {object} from level {automated_level} to {level}: "
        "“{reason}”",
    ),
    "assessment.overrides_carry": Describer(
        "Overrides carried", "Overrides of {object} were carried to revision {revision}."
    ),
    "assessment.override_confirm": Describer(
        "Override confirmed",
        "{actor} confirmed the override of {criterion} of {object} (level {level}).",
    ),
    "assessment.override_drop": Describer(
        "Override dropped", "{actor} dropped the override of {criterion} of {object}: “{reason}”"
    ),
    "model_card.remove": Describer(
        "Model card removed", "{actor} removed the model card {file} from {object}."
    ),
    "diagnostics.remove": Describer(
        "Diagnostics removed", "{actor} removed diagnostics {file} from {object}."
    ),
    "evidence.remove": Describer(
        "Evidence removed", "{actor} removed evidence {file} from {object}."
    ),
    "evidence.download": Describer("File downloaded", "{actor} downloaded {file} of {object}."),
    "report.download": Describer("Report downloaded", "{actor} downloaded {file}."),
    "report.running": Describer(
        "Report rendering", "Report v{version} of {object} is being rendered (attempt {attempt})."
    ),
    "report.failed": Describer(
        "Report failed", "Report v{version} of {object} could not be rendered: {error}"
    ),
    "report.correct": Describer(
        "Report corrected", "{actor} issued a corrected final report of {object}: “{reason}”"
    ),
    "report.request": Describer(
        "Report requested", "{actor} requested report v{version} ({kind}) of {object}."
    ),
    "report.issue": Describer(
        "Report issued", "Report v{version} ({kind}) of {object} was issued."
    ),
    # Rubrics and the log itself
    "rubric.load": Describer("Rubric loaded", "Rubric {object} was loaded."),
    "rubric.publish": Describer("Rubric published", "{actor} put rubric {object} in force."),
    "rubric.rescore_finish": Describer(
        "Re-scoring finished",
        "Re-scoring under {object} finished: {rescored} of {total} filings re-scored, "
        "{skipped} already assessed under it, {failed} failed.",
    ),
    "rubric.rescore_retry": Describer(
        "Re-scoring retried",
        "{actor} re-scored the {submissions} filings that failed under {object} again.",
    ),
    "audit_log.verify": Describer("Audit chain checked", _verify_sentence),
    "metric_alias.add": Describer(
        "Metric alias added", "{actor} mapped {pattern} to the catalogue metric {metric}."
    ),
    "metric_alias.remove": Describer(
        "Metric alias removed", "{actor} removed the alias {pattern} → {metric}."
    ),
    "admin.add": Describer("Added in the admin", "{actor} added {object_type} “{name}”."),
    "admin.change": Describer(
        "Changed in the admin", "{actor} changed {object_type} “{name}” ({changed})."
    ),
    "admin.delete": Describer("Deleted in the admin", "{actor} deleted {object_type} “{name}”."),
    # Organizations, people and keys
    "organization.create": Describer("Organization created", "Organization {name} was created."),
    "membership.create": Describer("Member added", "{actor} added {object} as {role}."),
    "membership.role_set": Describer(
        "Role changed", "{actor} changed the role of {object} from {from} to {to}."
    ),
    "membership.remove": Describer("Member removed", "{actor} removed {object}."),
    "api_key.create": Describer(
        "API key created", "{actor} created API key “{name}” ({object}…, {scope})."
    ),
    "api_key.revoke": Describer("API key revoked", "{actor} revoked API key “{name}” ({object}…)."),
    "api_key.expiry_warning": Describer(
        "API key expiring", "API key “{name}” ({object}…) expires on {expires_on}."
    ),
    "webhook.create": Describer("Webhook added", "{actor} registered the webhook endpoint {url}."),
    "webhook.update": Describer("Webhook changed", "{actor} changed the webhook endpoint {url}."),
    "webhook.disable": Describer("Webhook removed", "{actor} removed the webhook endpoint {url}."),
    "webhook.rotate_secret": Describer(
        "Webhook secret rotated", "{actor} rotated the signing secret of {url}."
    ),
    "webhook.test": Describer("Webhook tested", "{actor} sent a test event to {url}."),
    # Accounts
    "account.sign_in": Describer("Signed in", "{actor} signed in."),
    "account.sign_in_failed": Describer(
        "Sign-in failed", "A sign-in as {object} failed (from {ip_address})."
    ),
    "account.lockout": Describer(
        "Sign-in locked out",
        "Sign-ins as {object} from {ip_address} were locked out after repeated failures.",
    ),
    "account.two_factor_verify": Describer(
        "Second factor confirmed", "{actor} confirmed their sign-in with a {method}."
    ),
    "account.two_factor_failed": Describer(
        "Second factor refused", "A wrong one-time code was entered for {object}."
    ),
    "account.two_factor_enrol": Describer(
        "Two-factor set up", "{actor} set up two-factor authentication."
    ),
    "account.two_factor_remove": Describer(
        "Two-factor removed", "{actor} removed two-factor authentication."
    ),
    "account.recovery_code_use": Describer(
        "Recovery code used", "{actor} signed in with a recovery code ({remaining} left)."
    ),
    "account.recovery_codes_regenerate": Describer(
        "Recovery codes replaced", "{actor} generated new recovery codes."
    ),
    "account.password_change": Describer("Password changed", "{actor} changed their password."),
    "account.password_reset_request": Describer(
        "Password reset requested", "A password reset link was sent to {object}."
    ),
    "account.password_reset": Describer(
        "Password reset", "{object} chose a new password through a reset link."
    ),
}

# What a lab admin sees of their own organization's trail: an allow-list, so a new action
# stays among regulators until someone decides labs should see it. Regulators' working
# steps (who reviews, overrides before the decision) are theirs.
LAB_VISIBLE_ACTIONS: frozenset[str] = frozenset(
    {
        "submission.create",
        "submission.submit",
        "submission.start_review",
        "submission.request_changes",
        "submission.accept",
        "submission.reject",
        "model_card.attach",
        "diagnostics.attach",
        "evidence.attach",
        "model_card.remove",
        "diagnostics.remove",
        "evidence.remove",
        "assessment.run",
        "assessment.rescore",
        "report.issue",
        "organization.create",
        "membership.create",
        "membership.role_set",
        "membership.remove",
        "api_key.create",
        "api_key.revoke",
        "api_key.expiry_warning",
        "webhook.create",
        "webhook.update",
        "webhook.disable",
        "webhook.rotate_secret",
        "webhook.test",
        *(action for action in ACTIONS if action.startswith("account.")),
    }
)


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"


def action_label(action: str) -> str:
    describer = ACTIONS.get(action)
    return describer.label if describer else action


def event_sentence(
    *, action: str, actor: str, object_type: str, object_id: str, payload: Mapping[str, Any]
) -> str:
    """The event as a sentence a person reads, from its stored fields (no database access)."""
    fields = _Fields({key: value for key, value in payload.items() if value not in (None, "")})
    fields.update(actor=actor or "The portal", object=object_id, object_type=object_type)
    describer = ACTIONS.get(action)
    if describer is None:
        return f"{fields['actor']}: {action} on {object_type} {object_id}."
    if callable(describer.sentence):
        return describer.sentence(fields)
    return string.Formatter().vformat(describer.sentence, (), fields)
