"""Time zones as people read them: "Magyarország idő", "Yhdysvallat (Denver) aika", not tz database ids."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from babel import Locale
from babel.dates import get_timezone_location

TIMEZONES = sorted(tz for tz in available_timezones() if "/" in tz and not tz.startswith(("Etc/", "SystemV/")))


@lru_cache(maxsize=16)
def timezone_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """(tz id, its name in ``locale``) for every time zone, sorted as the language sorts names.
    Zones Babel names alike (several ids of one place) keep the id's city, so that each is told apart."""
    named = [(tz, get_timezone_location(tz, locale=locale)) for tz in TIMEZONES]
    counts: dict[str, int] = {}
    for _tz, name in named:
        counts[name] = counts.get(name, 0) + 1
    labelled = [
        (tz, name if counts[name] == 1 else f"{name} – {tz.rsplit('/', 1)[-1].replace('_', ' ')}") for tz, name in named
    ]
    Locale.parse(locale)  # an unknown locale fails here, not in the page
    return (("UTC", "UTC"), *sorted(labelled, key=lambda item: item[1].casefold()))
