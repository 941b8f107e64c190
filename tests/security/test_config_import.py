"""Configuration import refuses hostile YAML and JSON with a translated error, quickly, never a 500:
an alias bomb ("billion laughs") of a few hundred bytes, an oversized upload, a definition that is not
a mapping, and nesting thousands of levels deep (ASVS 5.5.2, 12.1.1)."""

import io
import time

from flask_babel import force_locale, gettext
from markupsafe import escape

from tests.admin.test_console import _setup, url

BILLION_LAUGHS = b"""\
slug: targito
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _czech(app, msgid, **variables):
    """The page's wording (Czech at targito), whether or not the catalog has translated it yet."""
    with app.test_request_context("/"), force_locale("cs"):
        return str(escape(gettext(msgid, **variables)))


def _upload(client, content: bytes, name="targito.yaml"):
    return client.post(url("/import"), data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def test_an_alias_bomb_is_refused_at_once(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    assert len(BILLION_LAUGHS) < 600
    started = time.monotonic()
    response = _upload(client, BILLION_LAUGHS)
    assert time.monotonic() - started < 5
    assert response.status_code == 422
    assert _czech(
        app, "The file uses YAML anchors or aliases (& and *), which are not accepted; write each value out."
    ) in response.get_data(as_text=True)


def test_the_same_loader_guards_flask_tenants_sync(tmp_path):
    import pytest

    from app import create_app
    from app.tenancy.definition import DefinitionError, read_definition_files

    (tmp_path / "tenant.yaml").write_text("slug: &s targito\nname: *s\n")
    (tmp_path / "catalog.yaml").write_text("portals: []\n")
    (tmp_path / "workflow.yaml").write_text("statuses: []\n")
    with create_app({"ENV": "testing", "DATABASE_URL": "sqlite://"}).test_request_context("/"):
        with pytest.raises(DefinitionError) as refused:
            read_definition_files(tmp_path)
        assert "anchors or aliases" in str(refused.value)


def test_an_oversized_upload_is_refused(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    response = _upload(client, b"slug: targito\n" + b"# padding\n" * 120_000)
    assert response.status_code in (413, 422)
    if response.status_code == 422:
        assert _czech(app, "The file is too large (at most %(size)s).", size="1 MiB") in response.get_data(as_text=True)


def test_a_definition_that_is_not_a_mapping_is_refused_with_a_reason(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    expected = _czech(app, "The file must contain a mapping of keys (a tenant definition).")
    for content in (b'"just a string"', b"[1, 2]", b"just a string"):
        response = _upload(client, content)
        assert response.status_code == 422 and expected in response.get_data(as_text=True)
    # The same through the confirmation form's hidden field (JSON).
    for payload in ('"just a string"', "[1, 2]", "42", "not json at all"):
        response = client.post(url("/import"), data={"definition": payload, "apply": "1"})
        assert response.status_code == 422, payload
        assert expected in response.get_data(as_text=True) or _czech(
            app, "The definition could not be read."
        ) in response.get_data(as_text=True)


def test_deep_nesting_is_refused(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    deep_yaml = b"slug: targito\nforms: " + b"[" * 10_000 + b"]" * 10_000 + b"\n"
    response = _upload(client, deep_yaml)
    assert response.status_code == 422
    assert _czech(app, "The file is nested too deeply (more than %(limit)s levels).", limit=50) in (
        response.get_data(as_text=True)
    )
    deep_json = '{"slug": "targito", "forms": ' + "[" * 10_000 + "]" * 10_000 + "}"
    response = client.post(url("/import"), data={"definition": deep_json})
    assert response.status_code == 422
    deep_mapping = '{"slug": "targito", "forms": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}"
    response = client.post(url("/import"), data={"definition": deep_mapping})
    assert response.status_code == 422


def test_an_ordinary_export_still_imports(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    exported = client.get(url("/export.yaml")).data
    assert b"&id" not in exported and b"*id" not in exported
    response = _upload(client, exported)
    assert response.status_code == 200
    assert _czech(app, "No differences: the file matches the current configuration.") in response.get_data(as_text=True)
