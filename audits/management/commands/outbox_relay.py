"""Hand over background work left unsent (after a broker outage, or a process that died)."""

from typing import Any

from django.core.management.base import BaseCommand

from audits.services.outbox import outbox_pending, outbox_relay


class Command(BaseCommand):
    help = (
        "Hand every due outbox message to Celery (or run it in-process without a broker) "
        "and print how many were handed over and how many still wait."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        handed = outbox_relay()
        waiting = outbox_pending()
        self.stdout.write(f"{handed} handed over; {waiting} still waiting.")
