"""Redirect targets supplied by the user (``next=``): same-site paths only.

Browsers are lenient where a server-side check is strict: they drop tabs and newlines anywhere in a
URL, strip leading control characters and spaces, read ``\\`` as ``/``, and fold full-width and other
look-alike characters when they parse a host. A proxy may decode percent-escapes once more. So a
target is accepted only if every one of those readings is still a path on this site; anything
doubtful falls back to the default, which is always a local URL the app built itself.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

MAX_TARGET_LENGTH = 2048
# Percent-encoded slashes and backslashes, also encoded more than once (%252f, %25252f, ...).
_ENCODED_SLASH = re.compile(r"%(?:25)*(?:2f|5c)", re.IGNORECASE)
# Characters a browser or a Unicode normalisation may read as a slash, a backslash or an "@".
_LOOK_ALIKES = frozenset("\u2044\u2215\u2216\u29f5\u29f8\u29f9\ufe68\uff0f\uff3c\uff20\u2100\u2101\u2105\u2106")


def _readings(target: str) -> list[str]:
    """The target, percent-decoded up to three more times, each also NFKC-folded."""
    readings = [target]
    current = target
    for _ in range(3):
        decoded = unquote(current)
        if decoded == current:
            break
        readings.append(decoded)
        current = decoded
    return readings + [unicodedata.normalize("NFKC", reading) for reading in readings]


def _has_invisible(text: str) -> bool:
    """Control characters (tab, CR, LF, NUL, DEL...), invisible formatting or spaces, which browsers
    drop or read differently."""
    return any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Zs") for char in text)


def _is_local_path(reading: str) -> bool:
    if not reading.startswith("/") or reading.startswith("//"):
        return False
    if "\\" in reading or any(char in _LOOK_ALIKES for char in reading):
        return False
    path = reading.split("?", 1)[0].split("#", 1)[0]
    # Where a browser looks for a host, nothing invisible; a decoded query may hold spaces ("%20" in
    # a deep link's prefilled summary): behind the "?", they cannot make the target another site.
    if _has_invisible(path):
        return False
    if "@" in path:
        return False  # user-info tricks once a browser reads a host into the path
    parts = urlsplit(reading)
    return not parts.scheme and not parts.netloc


def is_safe_next(target: str | None) -> bool:
    """True if ``target`` is a path on this site however a browser or a proxy reads it."""
    if not target or not isinstance(target, str) or len(target) > MAX_TARGET_LENGTH:
        return False
    if _ENCODED_SLASH.search(target) or _has_invisible(target):
        return False
    return all(_is_local_path(reading) for reading in _readings(target))


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a same-site path, else ``default`` (a URL the app built)."""
    return target if is_safe_next(target) else default
