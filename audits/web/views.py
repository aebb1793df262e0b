from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from audits import selectors
from audits.models import Submission
from audits.roles import membership_of


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    submissions = selectors.submissions_visible_to(request.user)[:200]
    return render(
        request,
        "audits/dashboard.html",
        {"membership": membership_of(request.user), "submissions": submissions},
    )


@login_required
def submission_detail(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        submission = selectors.submission_get(user=request.user, reference=reference)
    except Submission.DoesNotExist:
        raise Http404("No such submission.") from None
    events = selectors.audit_events_for_submission(user=request.user, submission=submission)
    return render(
        request,
        "audits/submission_detail.html",
        {"membership": membership_of(request.user), "submission": submission, "events": events},
    )
