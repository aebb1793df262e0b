from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from audits.models import Membership, Organization, Submission
from audits.services import intake, organizations, submissions

DEMO_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "demo"
DEMO_PASSWORD = "govportal-demo"  # noqa: S105 (demo data, printed for the user)
SUPERUSER = ("admin", "admin@example.org")

STEP_SERVICES = {
    "submit": lambda s, u, _: submissions.submission_submit(
        submission=s, acting_user=u, accuracy_declared=True
    ),
    "start_review": lambda s, u, _: submissions.submission_start_review(
        submission=s, acting_user=u
    ),
    "request_changes": lambda s, u, r: submissions.submission_request_changes(
        submission=s, acting_user=u, rationale=r
    ),
    "accept": lambda s, u, r: submissions.submission_accept(
        submission=s, acting_user=u, rationale=r
    ),
    "reject": lambda s, u, r: submissions.submission_reject(
        submission=s, acting_user=u, rationale=r
    ),
    "attach_diagnostics": lambda s, u, name: (
        intake.diagnostics_attach(
            submission=s, acting_user=u, file_name=name, content=(DEMO_DIR / name).read_bytes()
        ).upload.submission
    ),
}


class Command(BaseCommand):
    help = (
        "Create demo organizations, users and filings (safe to run again: nothing is duplicated)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        manifest = yaml.safe_load((DEMO_DIR / "demo.yaml").read_text(encoding="utf-8"))
        with transaction.atomic():
            self._superuser()
            self._organizations(manifest["organizations"])
            self._users(manifest["users"])
        # Each step of a filing's story is its own transaction, as when people take it.
        self._filings(manifest["filings"])
        self._print_credentials(manifest["users"])

    def _superuser(self) -> None:
        user_model = get_user_model()
        username, email = SUPERUSER
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(
                username=username, email=email, password=DEMO_PASSWORD
            )

    def _organizations(self, entries: list[dict[str, str]]) -> None:
        for entry in entries:
            if not Organization.objects.filter(name=entry["name"]).exists():
                organizations.organization_create(name=entry["name"], kind=entry["kind"])

    def _users(self, entries: list[dict[str, str]]) -> None:
        for entry in entries:
            if get_user_model().objects.filter(username=entry["username"]).exists():
                continue
            first, _, last = entry["name"].partition(" ")
            organizations.member_add(
                organization=Organization.objects.get(name=entry["organization"]),
                username=entry["username"],
                email=f"{entry['username']}@example.org",
                password=DEMO_PASSWORD,
                role=entry["role"],
                first_name=first,
                last_name=last,
            )

    def _filings(self, entries: list[dict[str, Any]]) -> None:
        users = {user.username: user for user in get_user_model().objects.all()}
        for entry in entries:
            filing = yaml.safe_load((DEMO_DIR / entry["file"]).read_text(encoding="utf-8"))
            author = users[entry["by"]]
            version = entry.get("model_version", filing["model"]["version"])
            organization = Membership.objects.get(user=author).organization
            exists = Submission.objects.filter(
                organization=organization,
                model__name=filing["model"]["name"],
                model_version=version,
            ).exists()
            if exists:
                continue
            submission = submissions.submission_create(
                acting_user=author, model_name=filing["model"]["name"], model_version=version
            )
            if entry.get("upload", True):
                intake.model_card_attach(
                    submission=submission,
                    acting_user=author,
                    file_name=entry["file"],
                    content=(DEMO_DIR / entry["file"]).read_bytes(),
                )
            for name in entry.get("evidence", []):
                intake.evidence_attach(
                    submission=submission,
                    acting_user=author,
                    file_name=name,
                    content=(DEMO_DIR / name).read_bytes(),
                    description="Demo evidence",
                )
            for step in entry["steps"]:
                action, username, *rest = step
                submission = STEP_SERVICES[action](
                    submission, users[username], rest[0] if rest else ""
                )

    def _print_credentials(self, entries: list[dict[str, str]]) -> None:
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Sign in at http://127.0.0.1:8000/ with:")
        )
        self.stdout.write(f"  {'admin':<8} {DEMO_PASSWORD}  (Django admin at /admin/)")
        for entry in entries:
            who = f"{entry['role']} of {entry['organization']}"
            self.stdout.write(f"  {entry['username']:<8} {DEMO_PASSWORD}  ({who})")
        self.stdout.write(
            "Regulators (rita, victor) confirm each sign-in with a second factor: at the first "
            "sign-in the browser shows a QR code to scan with an authenticator app (FreeOTP, "
            "Aegis, Google Authenticator…) and then recovery codes to keep."
        )
