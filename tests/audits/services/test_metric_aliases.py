"""Metric aliases: regulator admins keep them, every change is on the audit record."""

import pytest

from audits.errors import NotPermitted, ServiceError
from audits.models import AuditEvent, MetricAlias
from audits.selectors import aliases_in_force
from audits.services.metric_aliases import metric_alias_add, metric_alias_remove


def test_a_regulator_admin_adds_and_removes_an_alias_on_the_record(regulator_admin):
    alias = metric_alias_add(
        acting_user=regulator_admin,
        pattern="lm_eval:in_house_sad/acc",
        metric="situational_awareness.sad_score",
    )
    assert aliases_in_force().resolve("lm_eval", "in_house_sad/acc") == alias.metric
    metric_alias_remove(acting_user=regulator_admin, alias=alias)
    assert aliases_in_force().resolve("lm_eval", "in_house_sad/acc") is None
    actions = list(
        AuditEvent.objects.filter(object_type="metric_alias").values_list("action", "actor_label")
    )
    assert actions == [
        ("metric_alias.add", "regulator-admin"),
        ("metric_alias.remove", "regulator-admin"),
    ]


@pytest.mark.parametrize("who", ["reviewer", "lab_admin", "lab_member"])
def test_only_regulator_admins_keep_aliases(request, who):
    with pytest.raises(NotPermitted):
        metric_alias_add(
            acting_user=request.getfixturevalue(who),
            pattern="lm_eval:x/acc",
            metric="reward_hacking.rate",
        )
    assert not MetricAlias.objects.exists()


def test_an_alias_to_no_catalogue_metric_is_refused_naming_the_field(regulator_admin):
    with pytest.raises(ServiceError, match="not a metric catalogue id") as refused:
        metric_alias_add(acting_user=regulator_admin, pattern="lm_eval:x/acc", metric="made.up")
    assert refused.value.details["field"] == "pattern"


def test_the_portal_page_lists_and_adds_aliases(regulator_admin):
    from tests.web.conftest import client_for

    client = client_for(regulator_admin)
    page = client.get("/metric-aliases/")
    assert page.status_code == 200
    assert "shipped aliases" in page.content.decode()
    added = client.post(
        "/metric-aliases/",
        {"pattern": "inspect:sad_lab/*/accuracy", "metric": "situational_awareness.sad_score"},
    )
    assert added.status_code == 302
    assert MetricAlias.objects.get().pattern == "inspect:sad_lab/*/accuracy"


def test_django_admin_changes_are_audit_events(admin_client):
    response = admin_client.post(
        "/admin/audits/metricalias/add/",
        {"pattern": "lm_eval:admin_task/acc", "metric": "reward_hacking.rate"},
    )
    assert response.status_code == 302, response.content[:500]
    assert AuditEvent.objects.filter(action="metric_alias.add").exists()
    response = admin_client.post(
        "/admin/audits/organization/add/",
        {
            "name": "Third Lab",
            "slug": "third-lab",
            "kind": "lab",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:500]
    event = AuditEvent.objects.get(action="admin.add")
    assert event.object_type == "organization" and event.payload["name"] == "Third Lab"
