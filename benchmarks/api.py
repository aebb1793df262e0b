"""REST API under load: listing at a fixed 100 requests/s, throughput against a bare DRF
list view of the same page of the same table, and filing throughput.

    .venv/bin/python benchmarks/api.py [--submissions 10000] [--seconds 20] [--workers 2]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
govportal_bench — dropped and recreated) and `wrk` (Debian: apt-get install wrk).
Gunicorn serves the portal on loopback with benchmarks/api_settings.py, which adds the
bare baseline route and lifts the rate limit. Steps:

1. 10,000 submissions in one lab (statuses mixed, most with an assessment), one API key.
2. Listing at 100 requests/s for --seconds: an open-loop client sends on schedule and
   measures from the scheduled time (no coordinated omission): p50/p95/p99.
3. wrk, closed loop (--connections), on the API listing and on the bare view: requests/s
   and the ratio; wrk's own p50/p95/p99.
4. wrk POSTing empty drafts (each request its own filing): requests/s and latency.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PORT = 8791
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/govportal_bench"
LIST_PATH = "/api/v1/submissions/?page=3"
BARE_PATH = "/bench/bare-submissions/?page=3"

WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "errors": %d, '
    .. '"p50_ms": %f, "p95_ms": %f, "p99_ms": %f}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "benchmarks.api_settings",
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare(database_url: str, count: int) -> str:
    """A fresh database with `count` submissions; returns an API key of their lab."""
    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    os.environ.update(environment(database_url))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from datetime import timedelta

    from django.utils import timezone

    from audits.models import AIModel, Assessment, Rubric, Submission
    from audits.services.api_keys import api_key_create
    from audits.services.organizations import organization_create

    lab = organization_create(name="Bench Lab", kind="lab")
    organization_create(name="Other Lab", kind="lab")
    models = [AIModel.objects.create(organization=lab, name=f"Model {i}") for i in range(20)]
    rubric = Rubric.objects.get(in_force=True)
    statuses = ["draft", "submitted", "under_review", "accepted", "rejected"]
    start = timezone.now() - timedelta(days=365)
    rows = []
    for i in range(count):
        status = statuses[i % len(statuses)]
        moment = start + timedelta(minutes=50 * i)
        rows.append(
            Submission(
                organization=lab,
                model=models[i % len(models)],
                model_version=f"{i // 20}.{i % 20}",
                reference=f"TA-2025-{i + 1:06d}",
                status=status,
                submitted_at=None if status == "draft" else moment,
            )
        )
    Submission.objects.bulk_create(rows, batch_size=2000)
    # created_at is auto_now_add: spread it over the year, as the references are.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audits_submission SET created_at = %s + "
            "CAST(substr(reference, 9) AS integer) * interval '50 minutes'",
            [start],
        )
    tiers = ["low", "moderate", "high", "critical"]
    assessments = [
        Assessment(
            submission=submission,
            revision=1,
            rubric=rubric,
            facts_sha256="0" * 64,
            overall_score=float(submission.pk % 100),
            tier=tiers[submission.pk % 4],
            coverage=0.8,
            insufficient_evidence=False,
            result={"criteria": []},
            engine_version="1",
        )
        for submission in Submission.objects.exclude(status="draft")
    ]
    Assessment.objects.bulk_create(assessments, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, key = api_key_create(organization=lab, acting_user=None, name="bench", scope="read_write")
    return key


def serve(database_url: str, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "govportal.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=environment(database_url),
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/api/v1/")
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def fixed_rate(path: str, key: str, rate: int, seconds: int) -> dict[str, float]:
    """Open loop: request i is due at start + i/rate; latency counts from when it was due."""
    local = threading.local()
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def one(due: float) -> None:
        nonlocal failures
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        try:
            local.connection.request("GET", path, headers={"Authorization": f"Api-Key {key}"})
            response = local.connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            local.connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            ok = False
        elapsed = time.perf_counter() - due
        with lock:
            latencies.append(elapsed)
            failures += not ok

    total = rate * seconds
    start = time.perf_counter() + 0.5
    with ThreadPoolExecutor(max_workers=64) as pool:
        for index in range(total):
            pool.submit(one, start + index / rate)
    latencies.sort()
    return {
        "requests": total,
        "failures": failures,
        "achieved_rps": total / (max(latencies) + seconds - 1 / rate) if latencies else 0,
        "p50_ms": latencies[int(0.50 * len(latencies))] * 1000,
        "p95_ms": latencies[int(0.95 * len(latencies))] * 1000,
        "p99_ms": latencies[int(0.99 * len(latencies))] * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def wrk(
    path: str, key: str | None, seconds: int, connections: int, body: str | None = None
) -> dict[str, float]:
    script = WRK_REPORT
    if body is not None:
        script = (
            "wrk.method = 'POST'\n"
            f"wrk.body = '{body}'\n"
            "wrk.headers['Content-Type'] = 'application/json'\n" + script
        )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        handle.name,
    ]
    if key:
        command += ["-H", f"Authorization: Api-Key {key}"]
    run = subprocess.run(
        [*command, f"http://127.0.0.1:{PORT}{path}"], capture_output=True, text=True, check=True
    )
    report = json.loads(run.stdout.strip().splitlines()[-1])
    report["rps"] = report["requests"] / report["seconds"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=int, default=100)
    options = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)

    key = prepare(database_url, options.submissions)
    server = serve(database_url, options.workers)
    try:
        for path in (LIST_PATH, BARE_PATH):  # warm every worker's connections and caches
            wrk(path, key, 2, options.connections)
        paced = fixed_rate(LIST_PATH, key, options.rate, options.seconds)
        listing = wrk(LIST_PATH, key, options.seconds, options.connections)
        bare = wrk(BARE_PATH, None, options.seconds, options.connections)
        filing = wrk(
            "/api/v1/submissions/",
            key,
            options.seconds,
            options.connections,
            body='{"model_name": "Bench Model", "model_version": "9.9"}',
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"setup: {options.submissions:,} submissions in PostgreSQL, gunicorn --workers "
        f"{options.workers} on loopback, page 3 (50 rows), {options.seconds}s per run"
    )
    print(
        f"listing at {options.rate} req/s (open loop): p50 {paced['p50_ms']:.1f} ms, "
        f"p95 {paced['p95_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms, "
        f"{paced['failures']} failures of {paced['requests']}"
    )
    for label, report in (("listing", listing), ("bare DRF list", bare), ("filing (POST)", filing)):
        print(
            f"{label:>14} (wrk -c{options.connections}): {report['rps']:.0f} req/s, "
            f"p50 {report['p50_ms']:.1f} ms, p95 {report['p95_ms']:.1f} ms, "
            f"p99 {report['p99_ms']:.1f} ms, {report['errors']} errors"
        )
    ratio = listing["rps"] / bare["rps"]
    print(f"listing / bare throughput: {ratio:.2f}× (target ≥ 0.60×)")
    print(f"p95 at {options.rate} req/s: {paced['p95_ms']:.1f} ms (target < 100 ms)")


if __name__ == "__main__":
    main()
