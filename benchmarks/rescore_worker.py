"""A Celery worker that counts the SQL statements it sends (for benchmarks/rescore.py).

    python -m benchmarks.rescore_worker worker -Q rescoring --pool=solo ...

Every database connection the worker opens gets an execute wrapper that counts; the count
is written to BENCH_QUERY_COUNT_FILE when the worker shuts down. A file beside it named
`.ready` says the worker is consuming.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govportal.settings")

import django

django.setup()

from celery import signals  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

from govportal.celery import app  # noqa: E402

COUNT_FILE = Path(os.environ["BENCH_QUERY_COUNT_FILE"])
statements = {"statements": 0}


def _count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    statements["statements"] += 1
    return execute(sql, params, many, context)


def _wrap(sender: Any, connection: Any, **_: Any) -> None:
    # Once per connection object, however often it reconnects.
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


connection_created.connect(_wrap, weak=False)


@signals.worker_ready.connect
def _ready(**_: Any) -> None:
    COUNT_FILE.with_suffix(".ready").write_text("ready")


@signals.worker_shutdown.connect
def _write(**_: Any) -> None:
    COUNT_FILE.write_text(json.dumps(statements))


if __name__ == "__main__":
    app.worker_main(sys.argv[1:])
