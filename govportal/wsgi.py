import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govportal.settings")

application = get_wsgi_application()

if not settings.CELERY_BROKER_URL and settings.GOVPORTAL_TASKS_IN_PROCESS == "thread":
    # The embedded mode has no worker: this process runs background work itself, and sweeps
    # up whatever an earlier process left unfinished.
    from audits.services.outbox import outbox_runner_start

    outbox_runner_start()
