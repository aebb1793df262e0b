"""`load_rubrics --publish` publishes through the same service as the portal; `rescore` too."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audits.models import Facts, RubricPublication
from audits.selectors import rubric_in_force
from tests.audits.rescoring import NEWER, filed


def test_load_rubrics_publish_rescores_and_a_second_run_starts_nothing(
    transactional_db, lab_member, newer_rubric, tasks_in_process
):
    # Committed for real: without a broker the command runs the work right after its commit
    # (with one, the workers do; tests/test_multi_host_workers.py shows that).
    submission = filed(lab_member, "Atlas")
    out = StringIO()
    call_command("load_rubrics", "--publish", NEWER, stdout=out)
    assert f"{NEWER} is now in force" in out.getvalue()
    assert "Re-scored 1 of 1 filings (0 already assessed under it, 0 failed)" in out.getvalue()
    submission.refresh_from_db()
    assert submission.current_assessment.rubric == rubric_in_force() == newer_rubric

    out = StringIO()
    call_command("load_rubrics", "--publish", NEWER, stdout=out)
    assert "already in force; nothing re-scored" in out.getvalue()
    assert RubricPublication.objects.count() == 1


def test_rescore_names_the_filings_it_could_not_rescore(lab_member, newer_rubric):
    healthy = filed(lab_member, "Healthy")
    broken = filed(lab_member, "Broken")
    Facts.objects.filter(submission=broken).update(document={"model": "not an object"})
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 filings could not be re-scored"):
        call_command("rescore", "--rubric", NEWER, stdout=out, stderr=err)
    assert f"{broken.reference}: not re-scored:" in err.getvalue()
    assert healthy.reference in out.getvalue()
