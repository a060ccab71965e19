"""Errors that reach the editor as one line plus a hint, with their exit code.

Exit codes: 1 a refusal or blocking problem, 2 usage or configuration errors.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the editor can fix; printed without a traceback."""

    code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class Refusal(UserError):
    """composer will not do this (an edited issue.md without --force ...)."""


class UsageError(UserError):
    code = 2


class ConfigError(UsageError):
    """A problem in composer.toml: the message names file, line and key."""


class WorkspaceError(UsageError):
    """No workspace where one is needed."""


class DialectError(UserError):
    """Input that cannot be read as a digest at all (binary, empty, missing)."""
