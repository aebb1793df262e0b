"""The public variant of a final report: what may be published, derived from the inputs
of the confidential one.

Kept: tier, scores, every criterion's level, overrides with their justification, the
decision with its rationale and conditions, the methodology, the diagnostics. Left out:
the evidence inventory's file names, hashes, uploaders and the descriptions of evidence
the lab marked confidential; narrative sections the lab marked confidential; the names
of reviewers and lab staff; comments and the notes of review events. The public report
says what it leaves out, by count.

Intake marks confidentiality with an optional `confidential` flag on narrative sections
and on the filing's evidence entries (and may mark an evidence upload itself); an absent
flag means not confidential.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

CONFIDENTIAL = "confidential"
PUBLIC = "public"
VARIANTS = (CONFIDENTIAL, PUBLIC)


def is_confidential(entry: Mapping[str, Any] | Any) -> bool:
    """Whether a narrative section, evidence entry or upload is marked confidential."""
    flag = (
        entry.get(CONFIDENTIAL)
        if isinstance(entry, Mapping)
        else getattr(entry, CONFIDENTIAL, None)
    )
    return flag is True


def confidential_evidence_files(facts_document: Mapping[str, Any]) -> set[str]:
    """The file names the filing's `evidence` entries mark confidential."""
    entries = facts_document.get("evidence") or []
    return {
        str(entry.get("file"))
        for entry in entries
        if isinstance(entry, Mapping) and entry.get("file") and is_confidential(entry)
    }


def _public_upload(upload: dict[str, Any], number: int) -> dict[str, Any]:
    return {
        **upload,
        "file_name": f"{upload['kind']} file {number}",
        "sha256": "",
        "uploaded_by": "",
        "description": "" if upload.get("confidential") else upload.get("description", ""),
    }


def _public_event(event: dict[str, Any], lab: str, authority: str) -> dict[str, Any]:
    who = lab if event.get("role") == "lab" else (authority or "the regulator")
    return {**event, "who": who, "text_html": ""}


def public_inputs(inputs: Any) -> Any:
    """The inputs of the public variant (a copy; `inputs` is left as it is)."""
    authority = inputs.authority or "the regulator"
    kept_narrative = [section for section in inputs.narrative if not is_confidential(section)]
    events = [event for event in inputs.timeline if event.get("role") != "comment"]
    decision = inputs.decision
    if decision is not None:
        decision = {**decision, "who": ""}
    return dataclasses.replace(
        inputs,
        variant=PUBLIC,
        narrative=kept_narrative,
        uploads=[_public_upload(upload, n) for n, upload in enumerate(inputs.uploads, start=1)],
        timeline=[_public_event(event, inputs.lab, authority) for event in events],
        overrides=[{**override, "author": authority} for override in inputs.overrides],
        decision=decision,
        withheld={
            "narrative_sections": len(inputs.narrative) - len(kept_narrative),
            "confidential_evidence": sum(1 for u in inputs.uploads if u.get("confidential")),
            "comments": len(inputs.timeline) - len(events),
        },
    )
