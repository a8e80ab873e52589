# SPDX-License-Identifier: GPL-3.0-or-later
"""Errors a user can act on (core layer)."""


class FieldcoordError(Exception):
    """Base of the errors fieldcoord reports to users in plain words."""


class ValidationError(FieldcoordError):
    """Input was refused; nothing was written. `field` names the offending field, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    @property
    def message(self) -> str:
        return self.args[0]


class NotFound(ValidationError):
    """No record has the given id."""


class PermissionDenied(ValidationError):
    """The home agency may not change this record."""


class NotInitialised(FieldcoordError):
    """The database has not been created with `fieldcoord init`."""


class Cancelled(FieldcoordError):
    """A long operation was cancelled by the user."""
