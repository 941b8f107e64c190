"""Attachment inputs announce their drop zone (app/static/js/file_drop.js) and the tenant's limits, in
the page's language, so that a too-large file is refused before it is sent; the inputs stay plain
file inputs and the server still refuses what breaks the limits."""

import io
import json
from html.parser import HTMLParser

from app.tenancy.definition import load_definition
from tests.conftest import TENANTS_DIR, portal_url, translated

NEW_REQUEST = "/portals/asiakastuki/palvelupyynto/new"


class _Elements(HTMLParser):
    """The attributes of every element of a page, by tag."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def file_inputs(self) -> dict:
        return {a.get("name"): a for tag, a in self.found if tag == "input" and a.get("type") == "file"}

    def drop_text(self) -> dict | None:
        return next((a for _tag, a in self.found if "data-file-drop-text" in a), None)


def _festum(make_tenant, **settings):
    definition = load_definition(TENANTS_DIR / "festum")
    return make_tenant("festum", settings={**definition["settings"], **settings})


def _customer(make_user, login, tenant):
    make_user(tenant, "asiakas@example.fi", locale="fi")
    login(tenant.slug, "asiakas@example.fi")


def test_the_new_request_form_gives_its_drop_zone_the_tenants_limits_in_finnish(
    app, client, make_tenant, make_user, login
):
    festum = _festum(make_tenant, max_attachment_mb=2, max_attachments=3)
    _customer(make_user, login, festum)
    page = _Elements(client.get(portal_url("festum", NEW_REQUEST)).get_data(as_text=True))

    attachments = page.file_inputs()["field_attachments"]
    assert "data-file-drop" in attachments and "multiple" in attachments
    text = page.drop_text()
    assert text is not None and "hidden" in text
    assert text["data-max-bytes"] == str(2 * 1024 * 1024) and text["data-max-files"] == "3"
    assert "exe" in text["data-blocked-extensions"].split()
    # The server's own words, with the file's name left for the script to fill in.
    assert text["data-too-large"] == translated(
        app, "fi", "%(name)s is too large: at most %(size)d MB per file.", name="{name}", size=2
    )
    assert text["data-too-many"] == translated(app, "fi", "You can attach at most %(count)d files at once.", count=3)
    assert text["data-instructions"] == translated(app, "fi", "Drop files here or choose them")
    # "N files selected" for every count the input may hold, with the language's plural forms.
    counts = json.loads(text["data-counts"])
    assert len(counts) == 4 and all(str(n) in counts[n] for n in range(4))


def test_the_request_page_gives_the_comment_and_details_inputs_drop_zones(app, client, make_tenant, make_user, login):
    festum = _festum(make_tenant)  # the customer may add attachments afterwards ("Perustiedot")
    _customer(make_user, login, festum)
    sent = client.post(
        portal_url("festum", NEW_REQUEST),
        data={"field_summary": "Laskutus ei toimi", "field_description": "Virhe 42", "field_severity": "normaali"},
    )
    assert sent.status_code == 302
    page = _Elements(client.get(portal_url("festum", sent.headers["Location"])).get_data(as_text=True))
    inputs = page.file_inputs()
    assert "data-file-drop" in inputs["files"] and "data-file-drop" in inputs["field_attachments"]
    assert page.drop_text()["data-max-files"] == "10"  # the platform's default


def test_a_too_large_file_is_still_refused_by_the_server(app, client, make_tenant, make_user, login):
    festum = _festum(make_tenant, max_attachment_mb=1)
    _customer(make_user, login, festum)
    answer = client.post(
        portal_url("festum", NEW_REQUEST),
        content_type="multipart/form-data",
        data={
            "field_summary": "Iso liite",
            "field_description": "Liite on liian suuri",
            "field_severity": "normaali",
            "field_attachments": (io.BytesIO(b"x" * (1024 * 1024 + 1)), "iso.log"),
        },
    )
    assert answer.status_code == 422
    assert translated(
        app, "fi", "%(name)s is too large: at most %(size)d MB per file.", name="iso.log", size=1
    ) in answer.get_data(as_text=True)


def test_other_file_inputs_get_no_drop_zone(app, client, make_tenant, make_user, login):
    festum = _festum(make_tenant)
    _customer(make_user, login, festum)
    page = _Elements(client.get(portal_url("festum", "/profile")).get_data(as_text=True))
    assert page.file_inputs() and not any("data-file-drop" in a for a in page.file_inputs().values())
