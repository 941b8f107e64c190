"""Untrusted numbers and one-line texts from requests: bounded, so that no input reaches the database
or an e-mail header in a form that raises (ASVS 5.1.3, 5.1.4, 5.2.2).

- a page number, an id or a limit from the query string or a form is a whole number written in ASCII
  digits within the database's integer range; anything else is "absent" (the caller's default);
- the ``int`` URL converter refuses ids beyond that range, so ``/users/99999999999999999999`` is a
  plain 404 instead of an overflow in the database driver;
- a text meant for one line (a request's summary, an e-mail subject) loses its line breaks and other
  control characters.
"""

from __future__ import annotations

import re
from typing import overload

from werkzeug.routing import IntegerConverter

# The largest value of the INTEGER columns our ids live in (PostgreSQL's int4; SQLite takes more).
MAX_ID = 2**31 - 1
# More pages than any list will have; clamps OFFSET arithmetic far from any overflow.
MAX_PAGE = 100_000
_DIGITS = re.compile(r"[0-9]{1,18}")
# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


# Given an int default, the answer is always an int (the type checker knows it through these).
@overload
def int_arg(raw, default: int, *, minimum: int = 0, maximum: int = MAX_ID) -> int: ...
@overload
def int_arg(raw, default: None = None, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None: ...
def int_arg(raw, default: int | None = None, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """``raw`` (a query or form value) as an int within [minimum, maximum], else ``default``.

    Only ASCII digits count ("²" and "١" are not numbers here, "-1" is not an id)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        text = (raw or "").strip() if isinstance(raw, str) else ""
        if not _DIGITS.fullmatch(text):
            return default
        value = int(text)
    if value < minimum or value > maximum:
        return default
    return value


def page_arg(raw) -> int:
    """A page number from the query string: 1 unless it is a sensible positive number; huge ones are
    clamped (the list then simply shows no rows)."""
    text = (raw or "").strip() if isinstance(raw, str) else ""
    if not re.fullmatch(r"[0-9]+", text):
        return 1
    if len(text) > 7:  # (and never int() of thousands of digits: Python refuses those with a ValueError)
        return MAX_PAGE
    return min(max(int(text), 1), MAX_PAGE)


def single_line(text: str | None) -> str:
    """``text`` on one line: every run of control characters (CR, LF, TAB, NUL ...) becomes one space."""
    return _LINE_BREAKING.sub(" ", text or "")


class BoundedIntegerConverter(IntegerConverter):
    """The ``<int:...>`` converter, limited to the database's id range: a larger id is a 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
