from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _rubrics_sync(sender: AppConfig, **kwargs: Any) -> None:
    # Like content types and permissions: the rubric files shipped with the code are
    # stored whenever the schema is migrated, so a fresh database can assess at once.
    from audits.services.rubrics import rubrics_load

    rubrics_load()


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Transparency audits"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_rubrics_sync, sender=self)
        from audits.web.account_security import signals_connect

        signals_connect()
