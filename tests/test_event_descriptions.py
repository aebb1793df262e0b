"""Every action the portal records reads as a sentence on the audit trail page."""

import re
from pathlib import Path

from audits.events import ACTIONS
from audits.services.intake import UPLOAD_ACTIONS
from audits.services.submissions import TRANSITIONS

AUDITS = Path(__file__).resolve().parents[1] / "audits"


def _literal_actions() -> set[str]:
    found: set[str] = set()
    for path in AUDITS.rglob("*.py"):
        found.update(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    return found


def _composed_actions() -> set[str]:
    """Actions written with f-strings, spelled out from what composes them."""
    return {
        "submission.create",
        "submission.assign",
        *(f"submission.{transition.action}" for transition in TRANSITIONS),
        *(f"{name}.remove" for name in UPLOAD_ACTIONS.values()),
        "evidence.download",
        "report.download",
        "report.running",
        "report.failed",
        "admin.add",
        "admin.change",
        "admin.delete",
    }


def test_every_recorded_action_has_a_description():
    recorded = _literal_actions() | _composed_actions()
    assert len(recorded) > 40  # the scan found the portal's actions
    assert sorted(recorded - set(ACTIONS)) == []
