"""Re-scoring every filing after a rubric publish, on real Celery workers.

    .venv/bin/python benchmarks/rescore.py [--sizes 1000 10000] [--workers 2]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
govportal_bench_rescore — dropped and recreated for every size) and Redis
(BENCH_BROKER_URL, default redis://127.0.0.1:6379/9; its `rescoring` queue is purged).
For each size:

1. Seeds the scratch database: one lab, N filed submissions (bulk-created rows) each with
   its own facts document (generated like benchmarks/rubric.py's, with provenance) and its
   assessment under rubric 1.0.0, computed by the engine, then VACUUM ANALYZE (statistics,
   as a database in service has them); rubric 1.1.0, shipped beside 1.0.0, is stored but
   not in force.
2. Starts --workers worker processes (`celery worker -Q rescoring --pool=solo`, one
   process each) that count every SQL statement they send.
3. Publishes 1.1.0 through `rubric_publish` (the portal's service) and waits until the
   publication is done.

Prints the wall time from publish to done, the workers' CPU time (user + system), the
CPU time of the PostgreSQL backends serving the run, the CPU time the whole machine was
busy meanwhile (PostgreSQL, and anything else running),
the SQL statements per filing, and the machine's load
average before and after. The anchor in the same run: the engine alone (assess + to_dict)
over the same facts in this process, which is the floor no storage can beat.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/govportal_bench_rescore"
DEFAULT_BROKER = "redis://127.0.0.1:6379/9"
RUBRIC_URN = "urn:govportal:rubric:mesa-optimization"


def recreate_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def seed(size: int, seed_value: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """N filed submissions with facts and an assessment under 1.0.0; their facts back."""
    from django.core.management import call_command
    from django.utils import timezone

    from audits import rubric as engine
    from audits.models import (
        AIModel,
        Assessment,
        Facts,
        Organization,
        Submission,
    )
    from audits.selectors import rubric_in_force
    from audits.services.rubrics import rubrics_load
    from benchmarks.rubric import generate_facts, provenance_for

    call_command("migrate", verbosity=0)
    lab = Organization.objects.create(kind="lab", name="Bench Lab", slug="bench-lab")
    models = AIModel.objects.bulk_create(
        [AIModel(organization=lab, name=f"Model {n}") for n in range(100)]
    )
    now = timezone.now()
    generator = random.Random(seed_value)
    documents = []
    for n in range(size):
        facts = generate_facts(generator)
        facts["model"] = {"name": models[n % 100].name, "version": str(n), "developer": lab.name}
        documents.append((facts, provenance_for(facts)))
    submissions = Submission.objects.bulk_create(
        [
            Submission(
                organization=lab,
                model=models[n % 100],
                model_version=str(n),
                reference=f"TA-2026-{n + 1:06d}",
                status="submitted",
                submitted_at=now,
            )
            for n in range(size)
        ],
        batch_size=2000,
    )
    current = rubric_in_force()
    form = current.engine_form()
    facts_rows, assessments = [], []
    for submission, (document, provenance) in zip(submissions, documents, strict=True):
        result = engine.assess(form, document, provenance).to_dict()
        facts_rows.append(
            Facts(
                submission=submission,
                revision=1,
                document=document,
                provenance=provenance,
                sha256=result["facts_sha256"],
            )
        )
        assessments.append(
            Assessment(
                submission=submission,
                revision=1,
                rubric=current,
                facts_sha256=result["facts_sha256"],
                overall_score=result["overall_score"],
                tier=result["tier"],
                coverage=result["coverage"],
                insufficient_evidence=result["insufficient_evidence"],
                result=result,
                engine_version=result.get("engine_version", engine.ENGINE_VERSION),
            )
        )
    Facts.objects.bulk_create(facts_rows, batch_size=1000)
    Assessment.objects.bulk_create(assessments, batch_size=500)
    for submission, assessment in zip(submissions, assessments, strict=True):
        submission.current_assessment = assessment
    Submission.objects.bulk_update(submissions, ["current_assessment"], batch_size=2000)

    rubrics_load()  # the shipped versions not stored yet (1.1.0 is published below)
    # Statistics and a visibility map, as a database in service has them: without this the
    # planner guesses on freshly bulk-loaded tables, and autovacuum works during the run.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return documents


def engine_anchor(documents: list[tuple[dict[str, Any], dict[str, Any]]]) -> tuple[float, float]:
    """Seconds (wall, CPU) for the engine alone: assess + to_dict of every filing under 1.1.0."""
    from audits import rubric as engine
    from audits.services.rubrics import rubric_by_reference

    form = rubric_by_reference(f"{RUBRIC_URN}@1.1.0").engine_form()
    engine.assess(form, *documents[0]).to_dict()  # compiled once, outside the timing
    wall, cpu = time.perf_counter(), time.process_time()
    for document, provenance in documents:
        engine.assess(form, document, provenance).to_dict()
    return time.perf_counter() - wall, time.process_time() - cpu


def purge_queue(broker_url: str) -> None:
    from govportal.celery import app

    with app.connection_for_write(broker_url) as connection:
        for queue in ("rescoring", "govportal"):
            with contextlib.suppress(Exception):  # nothing there to purge
                connection.default_channel.queue_purge(queue)


def production_settings(directory: Path) -> dict[str, str]:
    """What production mode requires, for workers that run as in production (DEBUG off):
    a secret key, an audit key, the public address and a throwaway signing key."""
    key, cert = directory / "signing.key", directory / "signing.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=benchmark only", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return {
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_BASE_URL": "https://portal.example.org",
        "REPORT_SIGNING_KEY": str(key),
        "REPORT_SIGNING_CERT": str(cert),
    }


def start_workers(count: int, database_url: str, broker_url: str, counts_dir: Path) -> list:
    workers = []
    production = production_settings(counts_dir)
    for n in range(count):
        environment = {
            **os.environ,
            **production,
            "DATABASE_URL": database_url,
            "DATABASE_CONN_MAX_AGE": "600",
            "CELERY_BROKER_URL": broker_url,
            "LOG_LEVEL": "WARNING",
            "BENCH_QUERY_COUNT_FILE": str(counts_dir / f"worker-{n}.json"),
        }
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.rescore_worker", "worker", "-Q", "rescoring",
                 "--pool=solo", "--concurrency=1", f"--hostname=bench{n}@%h",
                 "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "--loglevel=WARNING"],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=open(counts_dir / f"worker-{n}.log", "w"),  # noqa: SIM115
            )
        )  # fmt: skip
    return workers


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine spent busy (PostgreSQL, other work too)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def backends_cpu_seconds() -> float:
    """CPU time of the PostgreSQL backends serving this database (the workers' sessions,
    opened for this run, and this process's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row[0] for row in cursor.fetchall()]
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def wait_ready(workers: list, counts_dir: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all((counts_dir / f"worker-{n}.ready").exists() for n in range(len(workers))):
            return
        for worker in workers:
            if worker.poll() is not None:
                raise SystemExit(f"a worker exited: see {counts_dir}")
        time.sleep(0.1)
    raise SystemExit("the workers did not start")


def run(size: int, arguments: argparse.Namespace) -> dict[str, Any]:
    recreate_database(arguments.database)
    from django.db import connections

    connections.close_all()
    started = time.perf_counter()
    documents = seed(size, arguments.seed)
    seeded = time.perf_counter() - started
    anchor_wall, anchor_cpu = engine_anchor(documents)
    purge_queue(arguments.broker)

    counts_dir = Path(tempfile.mkdtemp(prefix="rescore-workers-"))
    workers = start_workers(arguments.workers, arguments.database, arguments.broker, counts_dir)
    try:
        wait_ready(workers, counts_dir)
        from audits.models import RubricPublication
        from audits.services.rubrics import rubric_by_reference, rubric_publish

        load_before = os.getloadavg()
        cpu_before = [cpu_seconds(worker.pid) for worker in workers]
        machine_before = machine_busy_seconds()
        wall = time.perf_counter()
        published = rubric_publish(
            rubric=rubric_by_reference(f"{RUBRIC_URN}@1.1.0"), acting_user=None
        )
        assert published.publication is not None
        deadline = time.monotonic() + arguments.timeout
        while True:
            publication = RubricPublication.objects.get(pk=published.publication.pk)
            if publication.state == RubricPublication.State.DONE:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"not done after {arguments.timeout} s: {publication}")
            time.sleep(0.1)
        wall = time.perf_counter() - wall
        worker_cpu = sum(
            cpu_seconds(worker.pid) - before
            for worker, before in zip(workers, cpu_before, strict=True)
        )
        machine_busy = machine_busy_seconds() - machine_before
        backends = backends_cpu_seconds()
        load_after = os.getloadavg()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    statements = 0
    for n in range(len(workers)):
        path = counts_dir / f"worker-{n}.json"
        statements += json.loads(path.read_text())["statements"] if path.exists() else 0
    return {
        "size": size,
        "seeded_seconds": round(seeded, 1),
        "wall_seconds": round(wall, 2),
        "filings_per_second": round(size / wall),
        "worker_cpu_seconds": round(worker_cpu, 2),
        "postgres_backends_cpu_seconds": round(backends, 2),
        "machine_busy_cpu_seconds": round(machine_busy, 2),
        "statements_per_filing": round(statements / size, 2),
        "rescored": publication.done,
        "failed": publication.failed,
        "engine_alone_seconds": round(anchor_wall, 2),
        "engine_alone_cpu_seconds": round(anchor_cpu, 2),
        "load_before": [round(value, 2) for value in load_before],
        "load_after": [round(value, 2) for value in load_after],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER))
    arguments = parser.parse_args()

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "govportal.settings",
            "DATABASE_URL": arguments.database,
            "CELERY_BROKER_URL": arguments.broker,
            "LOG_LEVEL": "WARNING",
            # One audit chain key for this process and the workers (both append events).
            "GOVPORTAL_AUDIT_KEY": os.environ.get("GOVPORTAL_AUDIT_KEY", "benchmark-" + "k" * 40),
        }
    )
    import django

    django.setup()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{arguments.workers} workers (solo pool)"
    )
    for size in arguments.sizes:
        figures = run(size, arguments)
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
