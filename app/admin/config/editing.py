"""What every definition editor shares: pure functions on a definition mapping.

An editor takes the definition (as ``app.admin.services.current_definition`` exports it) and the
validated input of a form, and returns the edited copy; the argument is left as it was. What the
definition's validator cannot know (a key already taken, an action missing) the editor refuses with
a ``ConsoleError``. No request, no ``g``: the editors are unit-tested without an app
(tests/admin/test_config_editors.py); the views hand them to ``base.apply_edit``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import NoReturn

from app.admin.services import ConsoleError, Problem, find, find_index, move, require


def refuse(message: str, attribute: str | None = None) -> NoReturn:
    """Stop an edit with a problem the admin can act on (``attribute``: the input it is about)."""
    raise ConsoleError([Problem(message, attribute)])


def copied(definition: dict) -> dict:
    """A copy to edit, sharing nothing with the definition given."""
    return copy.deepcopy(definition)


def put(items: list[dict], item: dict, *, new: bool) -> None:
    """Append a new entry, or replace the entry with the same key (which must exist)."""
    if new:
        items.append(item)
    else:
        index = find_index(items, item["key"])
        if index is None:
            require(None, item["key"])
        items[index] = item


def without(items: list[dict], key: str) -> list[dict]:
    """The entries except the one with ``key``, which must exist."""
    require(find(items, key), key)
    return [item for item in items if item["key"] != key]


def moved(definition: dict, items_of: Callable[[dict], list], key: str, direction: str) -> dict:
    """The entry ``key`` of the list ``items_of(definition)`` one place up or down."""
    edited = copied(definition)
    move(items_of(edited), key, direction)
    return edited


def set_or_pop(mapping: dict, key: str, value) -> None:
    """Set an optional setting, or remove it when it is empty (the default then applies)."""
    if value is None or value == "":
        mapping.pop(key, None)
    else:
        mapping[key] = value
