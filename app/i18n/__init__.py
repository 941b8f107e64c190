"""Languages: the five UI languages, locale and time zone selection, per-tenant string overrides."""

LANGUAGES = ("hu", "fi", "cs", "pl", "en")
