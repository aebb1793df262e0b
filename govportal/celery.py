import os

from celery import Celery

from govportal.observability import celery_signals_connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govportal.settings")

app = Celery("govportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Request ids in task logs, task durations and failures in the metrics.
celery_signals_connect()
