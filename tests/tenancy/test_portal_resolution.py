"""A customer who opens <vendor>.<domain> lands in that vendor's portal, in its language."""

import re

import pytest
from sqlalchemy import select

from app.catalog.models import RequestType
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from tests.conftest import DEMO_TENANTS, TEST_DOMAIN, portal_url

EXPECTED = {
    # slug: (html lang, a request type name every customer of the tenant sees on the home page)
    "flexinform": ("hu", "Hiba"),
    "crmservice": ("fi", None),
    "festum": ("fi", None),
    "targito": ("cs", "Něco mi nefunguje"),
    "exea": ("pl", "Zgłoś awarię"),
}


def _html_lang(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)"', html).group(1)


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_each_tenant_home_is_its_own_portal_in_its_language(app, client, demo_tenants, slug):
    response = client.get(portal_url(slug))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    lang, request_type_name = EXPECTED[slug]
    assert _html_lang(html) == lang
    assert demo_tenants[slug].name in html
    with app.app_context(), tenant_scope(demo_tenants[slug].id):
        names = [rt.name[lang] for rt in db.session.scalars(select(RequestType))]
    assert names and all(name in html for name in names)
    if request_type_name:
        assert request_type_name in html
    # Nothing of another tenant appears.
    for other in DEMO_TENANTS:
        if other != slug:
            assert demo_tenants[other].name not in html


def test_unknown_subdomain_is_a_plain_404_that_reveals_nothing(client, demo_tenants):
    unknown = client.get(portal_url("nosuchvendor"))
    missing_page = client.get(portal_url("flexinform", "/no-such-page"))
    assert unknown.status_code == 404
    assert missing_page.status_code == 404
    body = unknown.get_data(as_text=True)
    for tenant in demo_tenants.values():
        assert tenant.name not in body
        assert tenant.slug not in body
    # An unknown vendor and a missing page of a real vendor look the same: no way to probe for tenants.
    assert body == missing_page.get_data(as_text=True)


@pytest.mark.parametrize(
    "host", ["a.b." + TEST_DOMAIN, "www.flexinform." + TEST_DOMAIN, "-x." + TEST_DOMAIN, "flexinform_." + TEST_DOMAIN]
)
def test_nested_or_malformed_subdomains_never_reach_a_tenant(client, demo_tenants, host):
    response = client.get(f"http://{host}/")
    assert response.status_code in (400, 404)  # 400: not even a valid host name
    assert "Flexinform" not in response.get_data(as_text=True)


def test_untrusted_host_is_refused(client, demo_tenants):
    response = client.get("/", base_url="http://flexinform.evil.example/")
    assert response.status_code == 400
    assert "Flexinform" not in response.get_data(as_text=True)


def test_suspended_tenant_says_so_and_comes_back_when_activated(app, client, demo_tenants):
    from app.tenancy.services import set_tenant_status
    from app.unit_of_work import unit

    with app.app_context(), unit():  # the boundary `flask tenants suspend` has
        set_tenant_status("targito", "suspended")
    page = client.get(portal_url("targito", "/requests"))
    assert page.status_code == 503 and "This support portal is suspended" in page.get_data(as_text=True)
    assert client.get(portal_url("exea")).status_code == 200
    with app.app_context(), unit():
        set_tenant_status("targito", "active")
    assert client.get(portal_url("targito")).status_code == 200


def test_404_is_translated_for_the_visitor(app, client, demo_tenants):
    from tests.conftest import translated

    body = client.get(portal_url("nosuchvendor"), headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert _html_lang(body) == "pl"
    assert translated(app, "pl", "Page not found") in body


def test_bare_domain_serves_the_platform_side(client, demo_tenants):
    response = client.get(portal_url(None), headers={"Accept-Language": "fi"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _html_lang(html) == "fi"
    for tenant in demo_tenants.values():
        assert tenant.name not in html


def test_language_switcher_changes_the_page_language_within_the_tenant_languages(client, demo_tenants):
    home = portal_url("flexinform")
    assert _html_lang(client.get(home).get_data(as_text=True)) == "hu"
    response = client.post(portal_url("flexinform", "/language"), data={"language": "en", "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = client.get(home).get_data(as_text=True)
    assert _html_lang(html) == "en"
    assert "Bug" in html  # the English name of "Hiba"
    # Polish is not one of Flexinform's languages: refused, the page stays in English.
    client.post(portal_url("flexinform", "/language"), data={"language": "pl", "next": "/"})
    assert _html_lang(client.get(home).get_data(as_text=True)) == "en"


def test_language_switch_never_redirects_to_another_host(client, demo_tenants):
    response = client.post(portal_url("exea", "/language"), data={"language": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_session_cookie_is_host_only(client, demo_tenants):
    response = client.post(portal_url("flexinform", "/language"), data={"language": "en", "next": "/"})
    cookie = response.headers["Set-Cookie"]
    assert "session=" in cookie
    assert "Domain=" not in cookie  # never sent to targito.<domain> or any other host
    assert "HttpOnly" in cookie
    # A choice made at one vendor does not follow the visitor to another.
    assert _html_lang(client.get(portal_url("targito")).get_data(as_text=True)) == "cs"


def test_forms_are_protected_against_cross_site_requests(app_config, demo_tenants):
    from app import create_app

    app_config = dict(app_config, WTF_CSRF_ENABLED=True)
    protected = create_app(app_config).test_client()
    response = protected.post(portal_url("flexinform", "/language"), data={"language": "en", "next": "/"})
    assert response.status_code == 400


def test_static_files_are_served_on_tenant_hosts(client, demo_tenants):
    assert client.get(portal_url("exea", "/static/css/portal.css")).status_code == 200
    assert client.get(portal_url(None, "/static/css/portal.css")).status_code == 200


def test_branding_colour_of_the_tenant_is_applied(client, demo_tenants):
    html = client.get(portal_url("targito")).get_data(as_text=True)
    assert demo_tenants["targito"].branding["primary_color"] in html


@pytest.mark.both_databases
def test_home_page_query_count_does_not_grow_with_the_catalog(make_tenant, queries_for):
    """Cold caches: tenant + its string overrides + portals + request types, whatever their number."""
    from app.caching import clear_all_caches

    make_tenant("flexinform")  # two portals, eight request types
    clear_all_caches()
    assert queries_for(portal_url("flexinform")) <= 4
    assert queries_for(portal_url("flexinform")) <= 2  # only the tenant lookup remains (cached 0 s in tests)
