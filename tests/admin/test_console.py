"""The tenant admin console: the definition edited in the browser, validated and applied like
`flask tenants sync`, previewed, exported and imported, audited."""

import io
import zipfile

import yaml
from sqlalchemy import select

from app.admin.models import ConfigChange
from app.automation.models import AutomationRule
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.workflow.models import Status
from markupsafe import escape

from tests.admin.conftest import config_version as _version, row_count as _count
from tests.conftest import portal_url, translated, translated_plural

ADMIN = "admin@targito.test"
CUSTOMER = "zakaznik@firma.cz"


def url(path):
    return portal_url("targito", "/admin/config" + path)


def _setup(make_tenant, make_user, login, role="admin"):
    targito = make_tenant("targito")
    make_user(targito, ADMIN, role="admin")
    make_user(targito, "agent@targito.test", role="agent")
    make_user(targito, CUSTOMER)
    login("targito", {"admin": ADMIN, "agent": "agent@targito.test", "customer": CUSTOMER}[role])
    return targito


def test_only_tenant_admins_see_the_console(client, make_tenant, make_user, login):
    targito = make_tenant("targito")
    assert "/login" in client.get(url("/")).headers["Location"]
    make_user(targito, "agent@targito.test", role="agent")
    make_user(targito, CUSTOMER)
    make_user(targito, ADMIN, role="admin")
    for email in (CUSTOMER, "agent@targito.test"):
        login("targito", email)
        assert client.get(url("/request-types")).status_code == 404
        assert client.post(url("/statuses/open/delete")).status_code == 404
        client.post(portal_url("targito", "/logout"))
    login("targito", ADMIN)
    assert client.get(url("/request-types")).status_code == 200
    assert client.get(portal_url("targito", "/admin/users")).status_code == 200  # the existing pages still work


def test_a_new_request_type_with_a_conditional_field_and_a_status_with_a_time_rule_work_at_once(
    app, client, make_tenant, make_user, login
):
    targito = _setup(make_tenant, make_user, login)
    response = client.post(
        url("/request-types/new"),
        data={
            "key": "outage",
            "name.cs": "Výpadek",
            "name.en": "Outage",
            "portal": "support",
            "form": "__new__",
            "workflow": "support",
            "icon": "bolt",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(
        url("/forms/outage/fields/new"),
        data={
            "key": "impact",
            "type": "select",
            "label.cs": "Dopad",
            "label.en": "Impact",
            "required": "1",
            "editable_by": "customer",
            "option_rows": "3",
            "option_0_key": "one",
            "option_0_label.cs": "Jeden uživatel",
            "option_0_label.en": "One user",
            "option_1_key": "many",
            "option_1_label.cs": "Více uživatelů",
            "option_1_label.en": "Many users",
            "visible_mode": "always",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(
        url("/forms/outage/fields/new"),
        data={
            "key": "affected_users",
            "type": "text",
            "label.cs": "Kolik uživatelů",
            "label.en": "How many users",
            "required": "1",
            "editable_by": "customer",
            "option_rows": "0",
            "visible_mode": "field",
            "visible_field": "impact",
            "visible_in": "many",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(
        url("/statuses/new"),
        data={
            "key": "on_hold",
            "name.cs": "Pozastaveno",
            "name.en": "On hold",
            "customer_name.cs": "V řešení",
            "customer_name.en": "In progress",
            "category": "waiting",
            "color": "#555555",
            "notify": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(
        url("/workflows/support/transitions/new"),
        data={
            "key": "hold",
            "name.cs": "Pozastavit",
            "name.en": "Put on hold",
            "from": "received",
            "to": "on_hold",
            "actors": "agent",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(
        url("/rules/new"),
        data={
            "key": "close_on_hold",
            "name.cs": "Uzavřít po 14 dnech",
            "name.en": "Close after 14 days",
            "trigger": "status_age",
            "status": "on_hold",
            "after": "P14D",
            "clock": "calendar",
            "transition_to": "done",
            "enabled": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context(), tenant_scope(targito.id):
        rule = db.session.execute(select(AutomationRule).where(AutomationRule.key == "close_on_hold")).scalar_one()
        assert rule.conditions == {"status": ["on_hold"], "after": "P14D", "clock": "calendar"}
        assert rule.actions == [{"transition_to": "done"}]
        assert db.session.execute(select(Status).where(Status.key == "on_hold")).scalar_one().category == "waiting"

    client.post(portal_url("targito", "/logout"))
    login("targito", CUSTOMER)
    page = client.get(portal_url("targito", "/portals/support/outage/new")).get_data(as_text=True)
    assert "Výpadek" in page and "Dopad" in page
    assert 'data-visible-field="field_impact" data-visible-in="many"' in page
    # Hidden by its condition, the required field is not asked for; shown, it is.
    shown = client.post(
        portal_url("targito", "/portals/support/outage/new"),
        data={
            "field_summary": "Nejde to",
            "field_description": "Vůbec",
            "field_impact": "many",
            "share_with": "private",
        },
    )
    assert shown.status_code == 422
    hidden = client.post(
        portal_url("targito", "/portals/support/outage/new"),
        data={
            "field_summary": "Nejde to",
            "field_description": "Vůbec",
            "field_impact": "one",
            "share_with": "private",
        },
    )
    assert hidden.status_code == 302, hidden.get_data(as_text=True)


def _raise_request(client, login):
    login("targito", CUSTOMER)
    response = client.post(
        portal_url("targito", "/portals/support/support/new"),
        data={"field_summary": "Dotaz", "field_description": "Jak na to?", "share_with": "private"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post(portal_url("targito", "/logout"))


def test_refused_changes_leave_everything_unchanged(app, client, make_tenant, make_user, login):
    targito = _setup(make_tenant, make_user, login, role="customer")
    client.post(portal_url("targito", "/logout"))
    _raise_request(client, login)
    login("targito", ADMIN)
    version = _version(app)
    statuses = _count(app, targito, Status)

    initial = client.post(url("/statuses/open/delete"))
    assert initial.status_code == 422 and str(
        escape(
            translated(
                app,
                "cs",
                "New requests of workflow '%(workflow)s' start in status '%(key)s': choose another initial status "
                "first.",
                workflow="support",
                key="open",
            )
        )
    ) in initial.get_data(as_text=True)
    assert client.post(url("/workflows/support/initial"), data={"initial_status": "received"}).status_code == 302
    version = _version(app)
    changes = _count(app, targito, ConfigChange)
    in_use = client.post(url("/statuses/open/delete"))
    assert in_use.status_code == 422
    assert str(
        escape(
            translated(
                app,
                "cs",
                "status '%(key)s' was removed but requests are in it; move them to "
                "another status first or keep it in the definition",
                key="open",
            )
        )
    ) in in_use.get_data(as_text=True)

    missing_status = client.post(
        url("/workflows/support/transitions/new"),
        data={
            "key": "jump",
            "name.cs": "Skok",
            "name.en": "Jump",
            "from": "received",
            "to": "nosuch",
            "actors": "agent",
        },
    )
    assert missing_status.status_code == 422
    text = missing_status.get_data(as_text=True)
    # The validator's own words, in the admin's Czech (`flask tenants sync` says them in the operator's).
    assert str(escape(translated(app, "cs", "unknown status '%(key)s'", key="nosuch"))) in text
    assert str(escape(translated(app, "cs", "transition '%(key)s'", key="jump"))) in text

    missing_language = client.post(
        url("/statuses/new"),
        data={"key": "paused", "name.cs": "Pozastaveno", "category": "waiting", "color": "#555555"},
    )
    assert missing_language.status_code == 422
    text = missing_language.get_data(as_text=True)
    assert (
        str(
            escape(
                translated_plural(
                    app, "cs", "missing language %(languages)s", "missing languages %(languages)s", 1, languages="en"
                )
            )
        )
        in text
    )
    assert 'value="Pozastaveno"' in text  # the form keeps what was typed

    assert _version(app) == version and _count(app, targito, Status) == statuses
    assert _count(app, targito, ConfigChange) == changes == 1  # only the initial status change


def test_deleting_an_unused_status_removes_its_transitions(app, client, make_tenant, make_user, login):
    targito = _setup(make_tenant, make_user, login)
    client.post(
        url("/statuses/new"),
        data={
            "key": "paused",
            "name.cs": "Pozastaveno",
            "name.en": "Paused",
            "category": "waiting",
            "color": "#555555",
        },
    )
    client.post(
        url("/workflows/support/transitions/new"),
        data={
            "key": "pause",
            "name.cs": "Pozastavit",
            "name.en": "Pause",
            "from": "received",
            "to": "paused",
            "actors": "agent",
        },
    )
    assert "pause" in client.get(url("/workflows")).get_data(as_text=True)
    response = client.post(url("/statuses/paused/delete"))
    assert response.status_code == 302
    assert "Pozastavit" not in client.get(url("/workflows")).get_data(as_text=True)
    with app.app_context(), tenant_scope(targito.id):
        assert db.session.execute(select(Status).where(Status.key == "paused")).scalar_one_or_none() is None
    # A status an agent queue filters by is refused, naming the queue.
    refused = client.post(url("/statuses/waiting_for_pm/delete"))
    assert refused.status_code == 422
    assert str(escape(translated(app, "cs", "queue '%(key)s'", key="waiting_for_pm"))) in refused.get_data(as_text=True)


def test_preview_in_two_languages(client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    czech = client.get(url("/request-types/support/bug/preview?lang=cs")).get_data(as_text=True)
    english = client.get(url("/request-types/support/bug/preview?lang=en")).get_data(as_text=True)
    assert "Priorita" in czech and "Nízká" in czech and "Priority" not in czech
    assert "Priority" in english and "Low" in english
    # The priority is only on the bug form; support-only fields are not shown to customers.
    question = client.get(url("/request-types/support/support/preview?lang=en")).get_data(as_text=True)
    assert "Priority" not in question and "Information needed from you" not in question


def test_export_then_import_is_an_empty_diff_and_a_changed_file_is_shown_then_applied(
    app, client, make_tenant, make_user, login
):
    targito = _setup(make_tenant, make_user, login)
    exported = client.get(url("/export.zip"))
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(exported.data)).namelist()
    assert "targito/tenant.yaml" in names and "targito/workflow.yaml" in names
    dry = client.post(
        url("/import"), data={"file": (io.BytesIO(exported.data), "targito.zip")}, content_type="multipart/form-data"
    )
    assert dry.status_code == 200
    assert translated(app, "cs", "No differences: the file matches the current configuration.") in dry.get_data(
        as_text=True
    )

    merged = yaml.safe_load(client.get(url("/export.yaml")).data)
    assert translated(app, "cs", "No differences: the file matches the current configuration.") in client.post(
        url("/import"),
        data={"file": (io.BytesIO(yaml.safe_dump(merged, allow_unicode=True).encode()), "targito.yaml")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)

    merged["statuses"][0]["name"]["en"] = "New"
    version = _version(app)
    dry = client.post(
        url("/import"),
        data={"file": (io.BytesIO(yaml.safe_dump(merged, allow_unicode=True).encode()), "targito.yaml")},
        content_type="multipart/form-data",
    )
    text = dry.get_data(as_text=True)
    assert (
        str(
            escape(
                translated(
                    app, "cs", "updated status '%(key)s' (%(fields)s)", key="open", fields=translated(app, "cs", "name")
                )
            )
        )
        in text
    )
    assert _version(app) == version
    payload = text.split('name="definition" value="', 1)[1].split('"', 1)[0]
    import html

    applied = client.post(url("/import"), data={"definition": html.unescape(payload), "apply": "1"})
    assert applied.status_code == 302
    assert _version(app) == version + 1
    with app.app_context(), tenant_scope(targito.id):
        assert db.session.execute(select(Status).where(Status.key == "open")).scalar_one().name["en"] == "New"


def test_an_invalid_import_is_refused_with_the_file_and_key(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    merged = yaml.safe_load(client.get(url("/export.yaml")).data)
    merged["workflows"][0]["transitions"][0]["to"] = "nowhere"
    response = client.post(
        url("/import"),
        data={"file": (io.BytesIO(yaml.safe_dump(merged).encode()), "targito.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert str(escape(translated(app, "cs", "unknown status '%(key)s'", key="nowhere"))) in response.get_data(
        as_text=True
    )


def test_every_applied_change_is_in_the_audit_log(app, client, make_tenant, make_user, login):
    targito = _setup(make_tenant, make_user, login)
    client.post(
        url("/statuses/new"),
        data={
            "key": "paused",
            "name.cs": "Pozastaveno",
            "name.en": "Paused",
            "category": "waiting",
            "color": "#555555",
        },
    )
    client.post(url("/statuses/move"), data={"key": "paused", "direction": "up"})
    with app.app_context(), tenant_scope(targito.id):
        changes = db.session.scalars(select(ConfigChange).order_by(ConfigChange.id)).all()
        assert [c.actor_name for c in changes] == [ADMIN, ADMIN]
        assert {"action": "created", "kind": "status", "key": "paused"} in changes[0].changes  # data, not words
    page = client.get(url("/audit")).get_data(as_text=True)
    assert ADMIN in page and str(escape(translated(app, "cs", "created status '%(key)s'", key="paused"))) in page
    assert translated(app, "cs", "order of the statuses") in page


def test_branding_colours_need_contrast_with_white_text(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    light = client.post(
        url("/branding"),
        data={"primary_color": "#ffd54f", "accent_color": "", "tagline.cs": "Podpora", "tagline.en": "Support"},
    )
    assert light.status_code == 422 and "4.5:1" in light.get_data(as_text=True)
    dark = client.post(
        url("/branding"),
        data={"primary_color": "#1f4e79", "accent_color": "", "tagline.cs": "Podpora", "tagline.en": "Support"},
    )
    assert dark.status_code == 302
    assert "--brand: #1f4e79" in client.get(portal_url("targito", "/")).get_data(as_text=True)


def test_enabling_a_language_starts_its_texts_from_the_default_language(app, client, make_tenant, make_user, login):
    targito = _setup(make_tenant, make_user, login)
    response = client.post(
        url("/general"),
        data={
            "name": "Targito",
            "registration": "invite",
            "timezone": "Europe/Prague",
            "languages": ["cs", "en", "pl"],
            "default_language": "cs",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context(), tenant_scope(targito.id):
        status = db.session.execute(select(Status).where(Status.key == "open")).scalar_one()
        assert status.name["pl"] == status.name["cs"]


def test_notification_settings_and_ui_strings(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    assert client.post(url("/notifications"), data={"batch_seconds": "120", "on_created": "1"}).status_code == 302
    assert client.post(url("/notifications"), data={"batch_seconds": "9999", "on_created": "1"}).status_code == 422
    assert (
        client.post(
            url("/strings"), data={"language": "en", "msgid": "Send request", "text": "Send it to Targito"}
        ).status_code
        == 302
    )
    merged = yaml.safe_load(client.get(url("/export.yaml")).data)
    assert merged["settings"]["notifications"]["batch_seconds"] == 120
    assert merged["strings"]["en"]["Send request"] == "Send it to Targito"


def test_sla_targets_and_business_hours_round_trip_and_are_validated(app, client, make_tenant, make_user, login):
    crm = make_tenant("crmservice")
    make_user(crm, "admin@crmservice.test", role="admin")
    login("crmservice", "admin@crmservice.test")
    page = portal_url("crmservice", "/admin/config/sla")
    form = client.get(page).get_data(as_text=True)
    assert 'name="target.severity_1.first_response" value="PT1H"' in form
    data = {
        "sla_enabled": "1",
        "clock": "business",
        "by": "severity",
        "warn_before": "PT4H",
        "target.severity_1.first_response": "PT2H",
        "target.severity_1.resolution": "PT8H",
    }
    refused = client.post(page, data=data)  # the business clock needs business hours
    assert refused.status_code == 422 and "business_hours" in refused.get_data(as_text=True)
    data.update(
        {
            "hours_enabled": "1",
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "08:00",
            "end": "16:00",
            "holidays": "2026-12-24\n2026-12-25",
        }
    )
    assert client.post(page, data=data).status_code == 302
    merged = yaml.safe_load(client.get(portal_url("crmservice", "/admin/config/export.yaml")).data)
    assert merged["sla"]["clock"] == "business" and merged["sla"]["targets"] == {
        "severity_1": {"first_response": "PT2H", "resolution": "PT8H"}
    }
    assert merged["settings"]["business_hours"]["holidays"] == ["2026-12-24", "2026-12-25"]


def test_portals_are_renamed_and_reordered(app, client, make_tenant, make_user, login):
    flexinform = make_tenant("flexinform")
    make_user(flexinform, "admin@flexinform.test", role="admin")
    login("flexinform", "admin@flexinform.test")
    page = client.get(portal_url("flexinform", "/admin/config/request-types")).get_data(as_text=True)
    first, second = [part.split(")</small>")[0] for part in page.split("<small>(")[1:3]]
    client.post(portal_url("flexinform", "/admin/config/portals/move"), data={"key": second, "direction": "up"})
    merged = yaml.safe_load(client.get(portal_url("flexinform", "/admin/config/export.yaml")).data)
    assert [p["key"] for p in merged["portals"]][:2] == [second, first]
    name = dict(merged["portals"][0]["name"], en="Renamed")
    response = client.post(
        portal_url("flexinform", f"/admin/config/portals/{second}"),
        data={f"name.{lang}": text for lang, text in name.items()},
    )
    assert response.status_code == 302
    merged = yaml.safe_load(client.get(portal_url("flexinform", "/admin/config/export.yaml")).data)
    assert merged["portals"][0]["name"]["en"] == "Renamed"


def test_a_new_portal_with_its_first_request_type_is_served_at_once(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    data = {
        "key": "vyvoj",
        "name.cs": "Vývojový portál",
        "name.en": "Development portal",
        "type_key": "napad",
        "type_name.cs": "Nápad",
        "type_name.en": "Idea",
        "form": "__new__",
        "workflow": "support",
    }
    missing = client.post(url("/portals/new"), data={**data, "name.en": ""})
    assert missing.status_code == 422 and _version(app) == _version(app)
    response = client.post(url("/portals/new"), data=data)
    assert response.status_code == 302
    client.post(portal_url("targito", "/logout"))
    login("targito", CUSTOMER)
    home = client.get(portal_url("targito")).get_data(as_text=True)
    assert "Vývojový portál" in home and "Nápad" in home
    assert client.get(portal_url("targito", "/portals/vyvoj/napad/new")).status_code == 200
    # The same key again is refused, naming it.
    client.post(portal_url("targito", "/logout"))
    login("targito", ADMIN)
    again = client.post(url("/portals/new"), data=data)
    assert again.status_code == 422 and "vyvoj" in again.get_data(as_text=True)


def test_the_audit_log_words_each_stored_change_in_the_viewers_language(app, client, make_user, login):
    """One stored change, two admins: the Czech admin reads it in Czech, the Hungarian one in Hungarian.
    A row written before changes were stored as data keeps its (English) line."""
    from app.operator.services import onboard_tenant

    with app.app_context():
        bistro = onboard_tenant(slug="bistro", name="Bistro", languages=["cs", "hu"], default_language="cs")
        db.session.commit()  # the operator console's boundary (app.unit_of_work)
        db.session.refresh(bistro)
    make_user(bistro, "spravce@bistro.cz", role="admin", locale="cs")
    make_user(bistro, "admin@bistro.hu", role="admin", locale="hu")
    with app.app_context(), tenant_scope(bistro.id):
        db.session.add(
            ConfigChange(actor_name="cli", summary="imported a definition", changes=["created status 'legacy'"])
        )  # as rows were stored before
        db.session.commit()
    config = lambda path: portal_url("bistro", "/admin/config" + path)  # noqa: E731
    login("bistro", "spravce@bistro.cz")
    assert (
        client.post(
            config("/statuses/new"),
            data={
                "key": "paused",
                "name.cs": "Pozastaveno",
                "name.hu": "Szünetel",
                "category": "waiting",
                "color": "#555555",
            },
        ).status_code
        == 302
    )
    assert client.post(config("/statuses/move"), data={"key": "paused", "direction": "up"}).status_code == 302
    czech = client.get(config("/audit")).get_data(as_text=True)
    client.post(portal_url("bistro", "/logout"))
    login("bistro", "admin@bistro.hu")
    hungarian = client.get(config("/audit")).get_data(as_text=True)

    for lang, page in (("cs", czech), ("hu", hungarian)):
        assert str(escape(translated(app, lang, "created status '%(key)s'", key="paused"))) in page
        assert (
            str(
                escape(
                    translated(
                        app,
                        lang,
                        "updated status '%(key)s' (%(fields)s)",
                        key="paused",
                        fields=translated(app, lang, "order"),
                    )
                )
            )
            in page
        )
        assert str(escape(translated(app, lang, "created tenant '%(key)s'", key="bistro"))) in page
        assert str(escape("created status 'legacy'")) in page
    assert str(escape(translated(app, "cs", "created status '%(key)s'", key="paused"))) not in hungarian
