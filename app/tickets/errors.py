"""The one error of the request services: a problem the person can fix, worded for them."""

from __future__ import annotations


class RequestError(Exception):
    """A problem the person can fix (translated); ``field`` names the form field, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
