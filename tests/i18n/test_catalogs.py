"""Every UI string is translated in the five catalogs, and tenants can reword any of them."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.i18n import LANGUAGES
from tests.conftest import ROOT, portal_url

TRANSLATIONS = ROOT / "translations"


def _catalog(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=lang)


def _extract(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "--quiet",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with open(pot, "rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete_and_has_no_fuzzy_entries(lang, tmp_path):
    catalog = _catalog(lang)
    in_code = _extract(tmp_path)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert in_code - ids == set(), f"{lang}: strings missing from the catalog; run `make update-messages`"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"{lang}: fuzzy {message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{lang}: untranslated {message.id!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_compiled(lang):
    mo = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo"
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, "run `make translations`"


def test_pages_are_translated(app, client, demo_tenants):
    from tests.conftest import translated

    html = client.get(portal_url("targito")).get_data(as_text=True)
    assert translated(app, "cs", "Skip to main content") in html


def test_a_tenant_can_reword_a_ui_string_without_affecting_other_tenants(client, make_tenant):
    make_tenant("exea", strings={"pl": {"Help center": "Centrum pomocy Exea"}})
    make_tenant("targito")
    assert "Centrum pomocy Exea" in client.get(portal_url("exea")).get_data(as_text=True)
    other = client.get(portal_url("targito")).get_data(as_text=True)
    assert "Centrum pomocy Exea" not in other


@pytest.mark.parametrize("lang, same_as_2, same_as_5", [("pl", 22, 25), ("cs", 3, 22)])
def test_plural_forms_follow_the_language(app, lang, same_as_2, same_as_5):
    """Czech and Polish have three forms: 1 / 2–4 (Polish also 22–24) / 5 and more."""
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale(lang):
        form = {
            n: ngettext("%(num)d request", "%(num)d requests", n).replace(str(n), "#")
            for n in (1, 2, 5, same_as_2, same_as_5)
        }
    assert len({form[1], form[2], form[5]}) == 3
    assert form[same_as_2] == form[2] and form[same_as_5] == form[5]
