"""`manage.py create_api_key "Example Lab" --name ci --scope read_write` prints a new key once."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audits.errors import ServiceError
from audits.models import Organization, OrganizationAPIKey
from audits.services.api_keys import api_key_create


class Command(BaseCommand):
    help = "Create an organization API key and print it (it is shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="the organization's name or slug")
        parser.add_argument("--name", required=True, help="what uses the key, e.g. 'release CI'")
        parser.add_argument(
            "--scope", choices=OrganizationAPIKey.Scope.values, default="read_write"
        )
        parser.add_argument("--expires-in-days", type=int, default=None)
        parser.add_argument("--quiet", action="store_true", help="print only the key (for scripts)")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = options["organization"]
        organization = (
            Organization.objects.filter(slug=wanted).first()
            or Organization.objects.filter(name=wanted).first()
        )
        if organization is None:
            known = ", ".join(Organization.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No organization named {wanted!r}; known: {known}.")
        days = options["expires_in_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            api_key, plaintext = api_key_create(
                organization=organization,
                acting_user=None,
                name=options["name"],
                scope=options["scope"],
                expires_at=expires_at,
            )
        except ServiceError as error:
            raise CommandError(error.message) from error
        if options["quiet"]:
            self.stdout.write(plaintext)
            return
        expiry = f", expires {expires_at:%Y-%m-%d}" if expires_at else ""
        self.stdout.write(
            f"API key {api_key.prefix} for {organization.name} ({api_key.scope}{expiry}). "
            "Store it now; it is not shown again:"
        )
        self.stdout.write(plaintext)
