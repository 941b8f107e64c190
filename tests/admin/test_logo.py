"""The tenant admin uploads the portal's logo: checked, scaled, stored per tenant, shown in the header."""

import io

from PIL import Image

from tests.admin.test_console import _setup, url
from tests.conftest import portal_url


def _png(width=1200, height=300, color=(40, 60, 120)):
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    out.seek(0)
    return out


def test_the_logo_is_scaled_stored_and_shown_in_the_header_of_this_tenant_only(
    app, client, make_tenant, make_user, login
):
    _setup(make_tenant, make_user, login)
    make_tenant("exea")
    response = client.post(
        url("/branding/logo"), data={"logo": (_png(), "logo.png")}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    home = client.get(portal_url("targito")).get_data(as_text=True)
    src = home.split('class="navbar-brand brand"', 1)[1].split('src="', 1)[1].split('"', 1)[0]
    assert 'alt="Targito"' in home
    picture = client.get(portal_url("targito", src))
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    width, height = Image.open(io.BytesIO(picture.data)).size
    assert width <= 480 and height <= 160
    # Another tenant neither shows it nor serves it.
    assert "branding/logo" not in client.get(portal_url("exea")).get_data(as_text=True)
    assert client.get(portal_url("exea", src)).status_code == 404
    # Removing it brings the name back.
    client.post(url("/branding/logo"), data={"remove": "1"})
    assert "branding/logo" not in client.get(portal_url("targito")).get_data(as_text=True)
    assert client.get(portal_url("targito", src)).status_code == 404


def test_a_file_that_is_no_picture_is_refused_and_nothing_changes(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    svg = io.BytesIO(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    page = client.post(url("/branding/logo"), data={"logo": (svg, "logo.svg")}, content_type="multipart/form-data")
    assert page.status_code == 422
    assert "branding/logo/" not in client.get(portal_url("targito")).get_data(as_text=True)


def test_only_tenant_admins_upload_a_logo(client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login, role="agent")
    response = client.post(
        url("/branding/logo"), data={"logo": (_png(), "logo.png")}, content_type="multipart/form-data"
    )
    assert response.status_code == 404
