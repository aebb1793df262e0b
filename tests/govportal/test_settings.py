import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from govportal.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-for-tests-only-" + "x9Qz!v7#Lm2@Rt5&Wp8^Ys4*Nb6(Hc1)Jd3" * 2,
    "ALLOWED_HOSTS": "portal.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.org",
    "DATABASE_URL": "sqlite:////tmp/govportal-deploy-check.sqlite3",
    "GOVPORTAL_AUDIT_KEY": "audit-key-for-tests-only-0123456789abcdef",
}


def _manage(*args, env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "GOVPORTAL_AUDIT_KEY"}
        and not k.startswith("REPORT_SIGNING")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def production(tmp_path):
    """PRODUCTION plus the reports' required settings: the public address and a signing key."""
    from tests.reports.pki import issue, write_pem

    key, cert, _ = write_pem(tmp_path, issue("Authority report signing"), [])
    return {
        **PRODUCTION,
        "PORTAL_BASE_URL": "https://portal.example.org",
        "REPORT_SIGNING_KEY": str(key),
        "REPORT_SIGNING_CERT": str(cert),
    }


def test_check_deploy_reports_nothing_with_production_values(production):
    result = _manage("check", "--deploy", "--fail-level", "DEBUG", env=production)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_complains_about_the_development_defaults():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={"DEBUG": "true"})
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(production):
    env = {**production, "SECRET_KEY": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_the_audit_key():
    env = {**PRODUCTION, "GOVPORTAL_AUDIT_KEY": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "GOVPORTAL_AUDIT_KEY or GOVPORTAL_AUDIT_KEY_FILE must be set" in result.stderr


def test_a_bad_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG='maybe' is not a boolean"):
        env_bool("SOME_FLAG")


def test_typed_readers(monkeypatch):
    monkeypatch.setenv("A_NUMBER", "12")
    monkeypatch.setenv("A_LIST", "a.example, b.example,,")
    monkeypatch.setenv("NOT_A_NUMBER", "twelve")
    monkeypatch.setenv("TOO_SMALL", "-1")
    assert env_int("A_NUMBER", 3) == 12
    assert env_int("MISSING_NUMBER", 3) == 3
    assert env_list("A_LIST") == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="NOT_A_NUMBER"):
        env_int("NOT_A_NUMBER", 1)
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("TOO_SMALL", 1, minimum=0)
