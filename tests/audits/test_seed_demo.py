from django.contrib.auth import get_user_model
from django.core.management import call_command

from audits.models import AuditEvent, Organization, Submission
from audits.services.audit_log import audit_chain_verify


def test_seed_demo_creates_the_cast_and_filings_once(db, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "alice" in out and "govportal-demo" in out
    counts = (
        Organization.objects.count(),
        get_user_model().objects.count(),
        Submission.objects.count(),
    )
    assert counts == (3, 6, 4)
    statuses = set(Submission.objects.values_list("status", flat=True))
    assert statuses == {"draft", "submitted", "under_review", "accepted"}
    accepted = Submission.objects.get(status="accepted")
    assert accepted.revision == 2
    events = AuditEvent.objects.count()

    call_command("seed_demo")
    assert (
        Organization.objects.count(),
        get_user_model().objects.count(),
        Submission.objects.count(),
    ) == counts
    assert AuditEvent.objects.count() == events
    assert audit_chain_verify()[1] is None
