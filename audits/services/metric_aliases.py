"""Metric aliases that regulator admins add: which external metric names the rubric scores.

An alias decides which diagnostics count, so every change is an audit event and a change
takes effect for the next facts built (uploads and submissions); filed assessments keep the
facts they were computed from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from audits.errors import ServiceError
from audits.intake.aliases import default_aliases
from audits.intake.types import IntakeError
from audits.models import MetricAlias
from audits.roles import ensure, may_manage_metric_aliases
from audits.services.audit_log import audit_event_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _ensure_alias_keeper(acting_user: User | None) -> None:
    # None is the operator at the command line; a superuser works through the admin.
    if acting_user is None or acting_user.is_superuser:
        return
    ensure(may_manage_metric_aliases(acting_user), "Only a regulator admin keeps metric aliases.")


@transaction.atomic
def metric_alias_add(*, acting_user: User | None, pattern: str, metric: str) -> MetricAlias:
    """Map an external metric name (or glob) to a catalogue metric, e.g.
    `lm_eval:sad_*/acc` → `situational_awareness.sad_score`."""
    _ensure_alias_keeper(acting_user)
    pattern, metric = pattern.strip(), metric.strip()
    try:
        default_aliases().extended({pattern: metric}, origin="the new alias")
    except IntakeError as invalid:
        raise ServiceError(invalid.message, details={"field": "pattern"}) from None
    if MetricAlias.objects.filter(pattern=pattern).exists():
        raise ServiceError(
            f"An alias for {pattern!r} exists already; remove it first to change its metric.",
            details={"field": "pattern"},
        )
    alias = MetricAlias.objects.create(pattern=pattern, metric=metric, created_by=acting_user)
    audit_event_record(
        actor=acting_user,
        action="metric_alias.add",
        object_type="metric_alias",
        object_id=pattern,
        payload={"pattern": pattern, "metric": metric},
    )
    return alias


@transaction.atomic
def metric_alias_remove(*, acting_user: User | None, alias: MetricAlias) -> None:
    _ensure_alias_keeper(acting_user)
    alias.delete()
    audit_event_record(
        actor=acting_user,
        action="metric_alias.remove",
        object_type="metric_alias",
        object_id=alias.pattern,
        payload={"pattern": alias.pattern, "metric": alias.metric},
    )
