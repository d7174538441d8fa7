"""The one error a file import raises for what the person asked for, rather than for a row."""

from __future__ import annotations


class ImportRefused(ValueError):
    """The import cannot start or go on: the message says what is wrong and what to do.

    A row that cannot be read is never this: it goes to quarantine with its reason, and the
    other rows load. This is for the file, the mapping and the command's arguments.
    """
