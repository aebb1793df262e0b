"""Audit actions the rest of the portal reacts to once they commit.

Every state change writes an audit event (audits/services/audit_log.py); an event whose
action is listed here is also handed to the `audits.event_dispatch` task through the
outbox, which tells the people and the systems that follow the filing.
"""

EVENT_DISPATCH_TASK = "audits.event_dispatch"
DISPATCHED_ACTIONS: frozenset[str] = frozenset()
