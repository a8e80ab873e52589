# SPDX-License-Identifier: GPL-3.0-or-later
"""Errors a user can act on (core layer)."""
from __future__ import annotations


class FieldcoordError(Exception):
    """Base of the errors fieldcoord reports to users in plain words."""


class ValidationError(FieldcoordError):
    """Input was refused; nothing was written. `field` names the offending field, if any.

    `errors` lists every refusal found as (field, message) pairs, the first being this error's
    own; a check that looks at a whole form raises one ValidationError carrying all of them
    (see `ValidationError.combine`), so a dialog can show each next to its field at once.
    """

    def __init__(self, message: str, field: str | None = None,
                 errors: list[tuple[str | None, str]] | None = None):
        super().__init__(message)
        self.field = field
        self.errors: list[tuple[str | None, str]] = list(errors) if errors else [(field, message)]

    @property
    def message(self) -> str:
        return str(self.args[0])

    @classmethod
    def combine(cls, found: list[ValidationError]) -> ValidationError:
        """One error carrying every refusal of `found` (in order); its message joins theirs,
        its field is the first one's."""
        if not found:
            raise ValueError("no errors to combine")
        if len(found) == 1:
            return found[0]
        pairs = [pair for e in found for pair in e.errors]
        return cls("; ".join(m for _f, m in pairs), pairs[0][0], pairs)


class NotFound(ValidationError):
    """No record has the given id."""


class PermissionDenied(ValidationError):
    """The home agency may not change this record."""


class NotInitialised(FieldcoordError):
    """The database has not been created with `fieldcoord init`."""


class Cancelled(FieldcoordError):
    """A long operation was cancelled by the user."""
