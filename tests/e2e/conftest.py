"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

Playwright's sync API runs an event loop in the test thread, and Django refuses ORM calls
from a thread with a running loop unless told otherwise; these tests set up data with the
ORM between browser steps, so the guard is lifted for them (and only while they run: the
variable must not leak into other tests or the subprocesses they start).
"""

import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            f"{CHROMIUM} is missing and CI is set: install Debian's chromium "
            "(apt-get install -y chromium) so the browser tests run."
        )
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="module", autouse=True)
def allow_orm_beside_playwright():
    # Module scope: set before pytest-django's function fixtures touch the database.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


# pytest-playwright keeps one Playwright (and its event loop) for the whole session; in a
# worker that goes on to run other tests, Django would then see a running loop and refuse
# their ORM calls. Here Playwright lives for one module and stops when the module ends.
@pytest.fixture(scope="module")
def playwright(_pw_api_request_contexts):
    instance = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(instance)
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def launch_browser(browser_type_launch_args, browser_type):
    def launch(**kwargs):
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="module")
def browser(launch_browser):
    instance = launch_browser()
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="module")
def browser_context_args():
    # A laptop's width; downloads allowed (the final report is one).
    return {"viewport": {"width": 1440, "height": 900}, "accept_downloads": True}


@pytest.fixture
def screenshots(tmp_path):
    # Every run takes them; the README's copies in docs/ change only when asked to
    # (GOVPORTAL_REFRESH_SCREENSHOTS=1), so a test run leaves the checkout clean.
    if os.environ.get("GOVPORTAL_REFRESH_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


@pytest.fixture(autouse=True)
def no_policy_violations(page):
    """Whatever a test does, the browser never has to block something the page asked for."""
    violations: list[str] = []

    def note(message):
        if "Content Security Policy" in message.text or "Permissions policy" in message.text:
            violations.append(message.text)

    page.on("console", note)
    yield violations
    assert violations == [], violations


@pytest.fixture
def portal(live_server, transactional_db, settings, tmp_path, tasks_in_process):
    """The demo world (seed_demo) on a live server, with the rubric loaded."""
    from django.core.management import call_command

    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_rubrics", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    return live_server


def sign_in(page, live_server, username, password="govportal-demo"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    second_factor(page, username)


def second_factor(page, username):
    """Regulators confirm sign-in with an authenticator: enrol at the first sign-in (QR
    code page, then recovery codes), enter a code afterwards. The test is the phone."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.signing_in import authenticator_code

    if "/accounts/two-factor/setup/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=False)
        page.get_by_label("Code from the app").fill(authenticator_code(device))
        page.get_by_role("button", name="Turn on two-factor").click()
        page.get_by_role("link", name="Continue").click()
        page.wait_for_load_state()
    elif "/accounts/two-factor/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.get_by_label("Code").fill(authenticator_code(device))
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
