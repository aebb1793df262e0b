"""The cast: two labs with a member and an admin each, a regulator with a reviewer and an admin."""

import pytest

from audits.models import Membership, Organization
from audits.services.intake import filing_document_attach
from audits.services.submissions import submission_create
from tests.factories import MembershipFactory, OrganizationFactory

pytest_plugins = ["tests.celery_workers"]


@pytest.fixture
def tasks_in_process():
    """Run Celery tasks in the test's process even when a broker is configured.

    For tests whose story needs a rendered report but no worker of its own (the browser
    story, the example pipeline); the worker path is tested in tests/celery_workers.py's users.
    """
    from govportal.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


@pytest.fixture(autouse=True)
def tasks_inline(settings):
    # Once a test has started the embedded mode's background runner, it would take every
    # later test's work; inline, a test sees the work done when the service returns.
    settings.GOVPORTAL_TASKS_IN_PROCESS = "inline"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Key stretching is for production; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _member(organization, username, role=Membership.Role.MEMBER):
    return MembershipFactory(user__username=username, organization=organization, role=role).user


@pytest.fixture
def lab(db):
    return OrganizationFactory(name="Example Lab", slug="example-lab", kind=Organization.Kind.LAB)


@pytest.fixture
def other_lab(db):
    return OrganizationFactory(name="Second Lab", slug="second-lab", kind=Organization.Kind.LAB)


@pytest.fixture
def regulator_org(db):
    return OrganizationFactory(name="Authority", slug="authority", kind=Organization.Kind.REGULATOR)


@pytest.fixture
def lab_member(lab):
    return _member(lab, "lab-member")


@pytest.fixture
def lab_admin(lab):
    return _member(lab, "lab-admin", Membership.Role.ADMIN)


@pytest.fixture
def other_lab_member(other_lab):
    return _member(other_lab, "other-member")


@pytest.fixture
def reviewer(regulator_org):
    return _member(regulator_org, "reviewer")


@pytest.fixture
def second_reviewer(regulator_org):
    return _member(regulator_org, "reviewer-two")


@pytest.fixture
def regulator_admin(regulator_org):
    return _member(regulator_org, "regulator-admin", Membership.Role.ADMIN)


def make_draft(user, model_name="Atlas", model_version="2.1"):
    """A draft with the identity a submission needs (name, version, developer) and nothing else."""
    submission = submission_create(
        acting_user=user, model_name=model_name, model_version=model_version
    )
    filing_document_attach(
        submission=submission,
        acting_user=user,
        document={
            "filing_schema": "govportal/filing/1",
            "model": {"name": model_name, "version": model_version, "developer": "Example Lab"},
        },
    )
    return submission


@pytest.fixture
def draft(lab_member):
    return make_draft(lab_member)


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback, and the portal's email pointed at it."""
    from tests.servers import smtp_server_running

    for server in smtp_server_running():
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        yield server


@pytest.fixture
def webhook_receiver(settings):
    """A real HTTP receiver on loopback; the portal may deliver to it (tests only)."""
    from tests.servers import webhook_receiver_running

    settings.GOVPORTAL_WEBHOOK_ALLOW_LOCAL_TARGETS = True
    settings.GOVPORTAL_WEBHOOK_RETRY_BASE_SECONDS = 1
    yield from webhook_receiver_running()


@pytest.fixture
def committed(django_capture_on_commit_callbacks, tasks_in_process):
    """`with committed(): change()` runs the work the change leaves for after its commit
    (outbox hand-over, event dispatch, emails, deliveries), as a real commit would, in
    this process even when a broker is configured."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
