"""The reports' settings at start-up: a production process refuses to start without the
portal's public address or the authority's signing key, or with bad values."""

import pytest

from tests.govportal.test_settings import PRODUCTION, _manage
from tests.reports.pki import issue, write_pem


@pytest.fixture
def signing_files(tmp_path):
    key, cert, _ = write_pem(tmp_path, issue("Authority report signing"), [])
    return {"REPORT_SIGNING_KEY": str(key), "REPORT_SIGNING_CERT": str(cert)}


@pytest.mark.parametrize(
    "env,message",
    [
        ({}, "PORTAL_BASE_URL must be set when DEBUG is off"),
        ({"PORTAL_BASE_URL": "portal.example.org"}, "is not an absolute http(s) URL"),
        ({"PORTAL_BASE_URL": "http://portal.example.org"}, "must use https when DEBUG is off"),
        ({"PORTAL_BASE_URL": "https://portal.example.org/?x=1"}, "must not carry a query"),
    ],
)
def test_a_missing_or_bad_portal_base_url_stops_production(signing_files, env, message):
    result = _manage("check", env={**PRODUCTION, **signing_files, **env})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_to_start_without_a_signing_key():
    env = {**PRODUCTION, "PORTAL_BASE_URL": "https://portal.example.org"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "development key is refused in production" in result.stderr


def test_a_signing_file_that_does_not_exist_is_named(tmp_path):
    env = {
        **PRODUCTION,
        "PORTAL_BASE_URL": "https://portal.example.org",
        "REPORT_SIGNING_PKCS12": str(tmp_path / "missing.p12"),
    }
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "REPORT_SIGNING_PKCS12=" in result.stderr and "no such file" in result.stderr


def test_the_embedded_mode_needs_nothing():
    result = _manage("check", env={"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
