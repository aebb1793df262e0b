"""Fixtures shared by the tests of the domain services and commands."""

from tests.audits.rescoring import newer_rubric  # noqa: F401
