"""Input the console's forms refuse is shown next to its input, in the admin's language, and
changes nothing."""

from markupsafe import escape

from tests.admin.conftest import config_version as _version
from tests.conftest import portal_url, translated

ADMIN = "admin@targito.test"


def url(path):
    return portal_url("targito", "/admin/config" + path)


def _error_of(page: str, attribute: str) -> str:
    """The text of the message shown under an input (``field_errors`` in the console's macros)."""
    marker = f'id="{attribute}-error">'
    assert marker in page, attribute
    return page.split(marker, 1)[1].split("</p>", 1)[0]


def test_a_wrong_key_and_a_wrong_number_are_shown_next_to_their_inputs(app, client, make_tenant, make_user, login):
    targito = make_tenant("targito")
    make_user(targito, ADMIN, role="admin")
    login("targito", ADMIN)
    before = _version(app)

    page = client.post(
        url("/forms/request/fields/new"),
        data={"key": "Not a key!", "type": "number", "label.cs": "Počet", "label.en": "Count", "default": "many"},
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    key_message = translated(
        app, "cs", "The key must be lowercase letters, digits, '-' or '_' (at most 63), e.g. 'bug-report'."
    )
    assert str(escape(key_message)) in _error_of(text, "key")
    assert str(escape(translated(app, "cs", "'%(value)s' is not a number.", value="many"))) in _error_of(
        text, "default"
    )
    assert translated(app, "cs", "Nothing was changed. Please correct the following:") in text

    page = client.post(url("/notifications"), data={"batch_seconds": "soon"})
    assert page.status_code == 422
    message = translated(
        app, "cs", "%(label)s: please enter a whole number.", label=translated(app, "cs", "Batch window")
    )
    assert str(escape(message)) in _error_of(page.get_data(as_text=True), "batch_seconds")
    assert _version(app) == before
