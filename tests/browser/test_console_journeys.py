"""The admin console and the operator console through the real pages.

Targito's admin (Czech UI) configures a request type with a conditional field, a status with a time
rule, previews the form in both languages, audits the changes and round-trips the export; a customer
uses the new request type at once. The platform operator onboards a tenant, suspends and resumes it.
Every page visited is checked by axe-core (WCAG 2.1 A/AA) and, at 360 px wide, for sideways scroll.

Names and keys are unique per run and nothing of Targito's seed is changed or deleted: the other
journeys share the session's demo data.
"""

import re
import uuid

import pytest

from tests.browser.conftest import DEMO_PASSWORD, outbox_messages

pytestmark = pytest.mark.browser


def _config_version(live_server, slug: str) -> int:
    from sqlalchemy import select

    from app.extensions import db
    from app.tenancy.models import Tenant

    with live_server.app.app_context():
        return db.session.execute(select(Tenant.config_version).where(Tenant.slug == slug)).scalar_one()


def _audit_count(live_server, slug: str) -> int:
    from sqlalchemy import func, select

    from app.admin.models import ConfigChange
    from app.extensions import db
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import tenant_scope

    with live_server.app.app_context():
        tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(tenant_id):
            return db.session.execute(select(func.count()).select_from(ConfigChange)).scalar_one()


def _submit(page, has: str):
    """Click the primary button of the form holding ``has`` (a selector)."""
    page.locator("main form", has=page.locator(has)).locator("button.btn-primary").click()


def _saved(page):
    assert page.locator("#form-errors").count() == 0, page.locator("#form-errors").inner_text()
    assert page.locator(".alert-success").count() >= 1, page.url


def test_targito_admin_configures_a_request_type_a_status_and_a_time_rule(portal, check, tmp_path):
    live = portal.live_server
    suffix = uuid.uuid4().hex[:6]
    type_key, status_key, rule_key = f"outage-{suffix}", f"on_hold_{suffix}", f"close_on_hold_{suffix}"
    type_cs, type_en = f"Výpadek {suffix}", f"Outage {suffix}"
    admin = portal.page_as("targito", "admin")
    assert admin.locator("html").get_attribute("lang") == "cs"
    audited = _audit_count(live, "targito")

    # A request type with a new form of its own, then its fields.
    admin.goto(portal.url("targito", "/admin/config/"))
    check(admin)
    admin.goto(portal.url("targito", "/admin/config/request-types"))
    check(admin)
    admin.locator("a.btn[href$='/admin/config/request-types/new?portal=support']").click()
    check(admin)
    admin.fill("#in-key", type_key)
    admin.fill("#name-cs", type_cs)
    admin.fill("#name-en", type_en)
    admin.fill("#in-icon", "bolt")
    admin.select_option("#in-form", "__new__")
    admin.locator("button[name=then][value=fields]").click()
    assert admin.url.endswith(f"/admin/config/forms/{type_key}"), admin.url
    _saved(admin)
    check(admin)

    admin.locator(f"a.btn[href$='/admin/config/forms/{type_key}/fields/new']").click()
    check(admin)
    admin.fill("#in-key", "impact")
    admin.select_option("#in-type", "select")
    admin.fill("#label-cs", "Dopad")
    admin.fill("#label-en", "Impact")
    admin.check("#in-required-1")
    for index, (key, cs, en) in enumerate(
        (("one", "Jeden uživatel", "One user"), ("many", "Více uživatelů", "Many users"))
    ):
        admin.fill(f"input[name=option_{index}_key]", key)
        admin.fill(f"input[name='option_{index}_label.cs']", cs)
        admin.fill(f"input[name='option_{index}_label.en']", en)
    _submit(admin, "#in-type")
    _saved(admin)
    check(admin)

    admin.locator(f"a.btn[href$='/admin/config/forms/{type_key}/fields/new']").click()
    admin.fill("#in-key", "affected_users")
    admin.select_option("#in-type", "text")
    admin.fill("#label-cs", "Kolik uživatelů")
    admin.fill("#label-en", "How many users")
    admin.check("#in-required-1")
    admin.check("#vm-field")
    admin.select_option("#in-visible_field", "impact")
    admin.fill("#in-visible_in", "many")
    check(admin)
    _submit(admin, "#in-type")
    _saved(admin)
    row = admin.locator("tr", has=admin.locator("code", has_text=re.compile("^affected_users$")))
    assert "impact" in row.inner_text() and "many" in row.inner_text()
    check(admin)

    # A validation error: a new status without its English name is refused, keeps what was typed.
    version = _config_version(live, "targito")
    admin.goto(portal.url("targito", "/admin/config/statuses"))
    check(admin)
    admin.locator("a.btn[href$='/admin/config/statuses/new']").click()
    check(admin)
    admin.fill("#in-key", status_key)
    admin.fill("#name-cs", "Pozastaveno")
    admin.fill("#customer_name-cs", "V řešení")
    admin.fill("#customer_name-en", "In progress")
    admin.select_option("#in-category", "waiting")
    _submit(admin, "#in-category")
    errors = admin.locator("#form-errors")
    assert errors.is_visible() and errors.get_attribute("role") == "alert"
    assert re.search(r"\ben\b", errors.inner_text()), errors.inner_text()
    assert admin.locator("#name-cs").input_value() == "Pozastaveno"
    check(admin)
    assert _config_version(live, "targito") == version

    # Another: the status new requests start in cannot be deleted; nothing changes.
    admin.goto(portal.url("targito", "/admin/config/statuses/open"))
    check(admin)
    admin.locator("form[action$='/admin/config/statuses/open/delete'] button").click()
    errors = admin.locator("#form-errors")
    assert errors.is_visible() and "open" in errors.inner_text()
    check(admin)
    assert _config_version(live, "targito") == version
    admin.goto(portal.url("targito", "/admin/config/statuses"))
    assert admin.locator("code", has_text=re.compile("^open$")).count() == 1
    assert admin.locator("code", has_text=re.compile(f"^{status_key}$")).count() == 0

    # The status, now with both names (customers see the seed's "V řešení"), and a time rule on it.
    admin.locator("a.btn[href$='/admin/config/statuses/new']").click()
    admin.fill("#in-key", status_key)
    admin.fill("#name-cs", "Pozastaveno")
    admin.fill("#name-en", "On hold")
    admin.fill("#customer_name-cs", "V řešení")
    admin.fill("#customer_name-en", "In progress")
    admin.select_option("#in-category", "waiting")
    _submit(admin, "#in-category")
    _saved(admin)
    assert admin.locator("code", has_text=re.compile(f"^{status_key}$")).count() == 1
    check(admin)

    admin.goto(portal.url("targito", "/admin/config/rules"))
    check(admin)
    admin.locator("a.btn[href$='/admin/config/rules/new']").click()
    check(admin)
    admin.fill("#in-key", rule_key)
    admin.fill("#name-cs", "Hotovo po 14 dnech")
    admin.fill("#name-en", "Done after 14 days")
    admin.select_option("#in-trigger", "status_age")
    admin.check(f"#st-{status_key}")
    admin.fill("#in-after", "P14D")
    admin.select_option("#in-clock", "calendar")
    admin.select_option("#in-transition_to", "done")
    _submit(admin, "#in-trigger")
    _saved(admin)
    row = admin.locator("tr", has=admin.locator(f"a[href$='/admin/config/rules/{rule_key}']"))
    assert "P14D" in row.inner_text() and "Pozastaveno" in row.inner_text() and "Done" in row.inner_text()
    check(admin)

    # The live preview in both languages: the conditional field appears when "many" is chosen.
    for lang, type_name, label, conditional in (
        ("cs", type_cs, "Dopad", "Kolik uživatelů"),
        ("en", type_en, "Impact", "How many users"),
    ):
        admin.goto(portal.url("targito", "/admin/config/request-types"))
        row = admin.locator("tr", has=admin.locator("code", has_text=re.compile(f"^{type_key}$")))
        row.get_by_role("link", name=lang.upper(), exact=True).click()
        assert f"lang={lang}" in admin.url
        frame = admin.locator(".preview-frame")
        assert frame.get_attribute("lang") == lang
        assert frame.get_by_role("heading", name=type_name).is_visible()
        assert frame.get_by_label(label).is_visible()
        assert not admin.locator("#field_affected_users").is_visible()
        check(admin)
        admin.select_option("#field_impact", "many")
        assert admin.locator("#field_affected_users").is_visible()
        assert frame.get_by_label(conditional).is_visible()
        check(admin)
        admin.select_option("#field_impact", "one")
        assert not admin.locator("#field_affected_users").is_visible()

    # The customer uses the new request type at once.
    customer = portal.page_as("targito", "customer")
    customer.goto(portal.url("targito", "/"))
    assert customer.get_by_text(type_cs).first.is_visible()
    customer.goto(portal.url("targito", f"/portals/support/{type_key}/new"))
    assert customer.locator("#field_impact").is_visible()
    assert not customer.locator("#field_affected_users").is_visible()
    check(customer)
    customer.select_option("#field_impact", "many")
    assert customer.locator("#field_affected_users").is_visible()
    check(customer)
    customer.fill("#field_summary", "Nelze se přihlásit")
    customer.fill("#field_description", "Od rána se nikdo z oddělení nepřihlásí.")
    customer.fill("#field_affected_users", "12")
    customer.click("form.request-form button.btn-primary")
    assert re.search(r"/requests/[A-Za-z]+-?\d+", customer.url), customer.url
    assert customer.get_by_text("Více uživatelů").first.is_visible()
    assert customer.get_by_text("12", exact=True).first.is_visible()
    check(customer)

    # The Audit page lists the five changes (newest first), by the admin; the refused ones are not there.
    assert _audit_count(live, "targito") == audited + 5
    admin.goto(portal.url("targito", "/admin/config/audit"))
    rows = admin.locator("table.audit-log tbody tr")
    newest = [rows.nth(i).locator("td").all_inner_texts() for i in range(5)]
    for (when, who, summary, details), key in zip(newest, (rule_key, status_key, "affected_users", "impact", type_key)):
        assert who.strip() == "admin@targito.test" and key in summary and details.strip(), (key, summary)
    check(admin)

    # Export → import dry run of the unchanged configuration: no differences, nothing applied.
    version = _config_version(live, "targito")
    admin.goto(portal.url("targito", "/admin/config/import"))
    check(admin)
    with admin.expect_download() as download:
        admin.locator("a[href$='/admin/config/export.zip']").click()
    exported = tmp_path / "targito.zip"
    download.value.save_as(exported)
    admin.set_input_files("#in-file", str(exported))
    admin.locator("main form", has=admin.locator("#in-file")).locator("button[type=submit]").click()
    assert admin.locator(".alert-success").is_visible()
    assert admin.locator("ul.diff").count() == 0
    assert admin.locator("button[name=apply]").count() == 0
    check(admin)
    assert _config_version(live, "targito") == version


def test_targito_admin_opens_the_queues_and_the_new_workflow_form(portal, check):
    """The Queues page, a queue's form (with a refused save) and the new-workflow form; nothing is saved."""
    live = portal.live_server
    version = _config_version(live, "targito")
    admin = portal.page_as("targito", "admin")
    admin.goto(portal.url("targito", "/admin/config/queues"))
    assert admin.locator("a[aria-current=page][href$='/admin/config/queues']").count() == 1
    assert admin.locator("code", has_text=re.compile("^waiting_for_pm$")).count() == 1
    check(admin)
    admin.locator("a[href$='/admin/config/queues/waiting_for_pm']").click()
    assert admin.locator("#qs-waiting_for_pm").is_checked()
    check(admin)
    admin.fill("#name-en", "")
    _submit(admin, "#in-status")
    errors = admin.locator("#form-errors")
    assert errors.is_visible() and re.search(r"\ben\b", errors.inner_text()), errors.inner_text()
    check(admin)
    admin.goto(portal.url("targito", "/admin/config/queues/new"))
    check(admin)
    admin.goto(portal.url("targito", "/admin/config/workflows"))
    check(admin)
    admin.locator("a.btn[href$='/admin/config/workflows/new']").click()
    admin.select_option("#in-copy_from", "support")
    check(admin)
    assert _config_version(live, "targito") == version


def test_operator_onboards_suspends_and_resumes_a_tenant(portal, check):
    live = portal.live_server
    suffix = uuid.uuid4().hex[:6]
    slug, name, email = f"onboard-{suffix}", f"Onboard {suffix} s.r.o.", f"boss-{suffix}@onboard.example"

    page = portal.new_page(None)
    page.goto(live.url(None, "/"))
    check(page)
    page.goto(live.url(None, "/login"))
    check(page)
    page.fill("#email", "operator@portal.test")
    page.fill("#password", DEMO_PASSWORD)
    page.click("main form button.btn-primary")
    assert page.locator("form[action='/logout']").count() == 1
    assert page.locator("table.tenants").is_visible()
    check(page)

    page.locator("a.btn[href$='/tenants/new']").click()
    check(page)
    page.fill("#slug", slug)
    page.fill("#name", name)
    page.select_option("#source", "_template")
    page.check("#lang-cs")
    page.check("#lang-en")
    page.select_option("#default_language", "cs")
    page.fill("#admin_email", email)
    page.click("main form button.btn-primary")
    assert page.locator("#form-errors").count() == 0, page.locator("#form-errors").inner_text()
    assert page.locator(".alert-success").is_visible()
    row = page.locator("table.tenants tr", has=page.get_by_text(name, exact=True))
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[1] == f"{slug}.localhost:{live.port}" and cells[2] == "cs, en"
    assert cells[3:6] == ["1", "0", "0"], cells  # the invited admin; no requests yet
    check(page)

    # Served at its subdomain at once, in its default language.
    visitor = portal.new_page(slug)
    response = visitor.goto(live.url(slug, "/"))
    assert response.status == 200
    assert visitor.locator("html").get_attribute("lang") == "cs"
    assert name in visitor.locator("body").inner_text()
    check(visitor)

    # The first admin is invited by e-mail, with a link to the new portal.
    invitations = [m for m in outbox_messages(live, email) if m.kind == "invitation"]
    assert len(invitations) == 1
    assert live.url(slug, "/") in invitations[0].body_text

    # Suspended: its portal says so. Resumed: it is served again.
    row.locator("button[name=status][value=suspended]").click()
    assert page.locator(".alert-success").is_visible()
    row = page.locator("table.tenants tr", has=page.get_by_text(name, exact=True))
    assert row.locator("button[name=status][value=active]").count() == 1
    check(page)
    response = visitor.goto(live.url(slug, "/"))
    assert response.status == 503
    assert name in visitor.locator("main").inner_text()
    check(visitor)

    row.locator("button[name=status][value=active]").click()
    assert page.locator(".alert-success").is_visible()
    row = page.locator("table.tenants tr", has=page.get_by_text(name, exact=True))
    assert row.locator("button[name=status][value=suspended]").count() == 1
    check(page)
    response = visitor.goto(live.url(slug, "/"))
    assert response.status == 200 and name in visitor.locator("body").inner_text()
    check(visitor)
