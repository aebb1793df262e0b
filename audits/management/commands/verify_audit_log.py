from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audits.services.audit_log import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the hash-chained audit log; exit non-zero naming the first bad event."

    def handle(self, *args: Any, **options: Any) -> None:
        count, chain_break = audit_chain_verify()
        if chain_break is not None:
            raise CommandError(
                f"Audit log does not verify after {count} good events: {chain_break}"
            )
        self.stdout.write(self.style.SUCCESS(f"Audit log verified: {count} events, chain intact."))
