"""A tenant's settings as one typed object: every default in one place, parsed once per
configuration version, a changed setting seen as soon as the version changes."""

from sqlalchemy import select

from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.resolution import get_tenant_context
from app.tenancy.services import apply_definition, export_definition
from app.tenancy.settings import NotificationSettings, TenantSettings, tenant_settings


def test_a_tenant_without_settings_gets_every_default():
    settings = TenantSettings.from_mapping({})
    assert settings == TenantSettings()
    assert (settings.max_attachments, settings.max_attachment_mb, settings.max_email_mb) == (10, 20, 25)
    assert (settings.email_rate_per_hour, settings.subject_tag, settings.unknown_sender) == (
        20,
        "{reference}",
        "reject",
    )
    assert (settings.default_sharing, settings.editable_after_creation, settings.business_hours) == (
        "private",
        (),
        None,
    )
    assert settings.notifications == NotificationSettings(60, None, "first_agent_reply", "assignee_or_all", True)


def test_given_settings_are_typed_and_unknown_keys_ignored():
    settings = TenantSettings.from_mapping(
        {
            "max_attachments": 3,
            "editable_after_creation": ["summary", "severity"],
            "subject_tag": "",
            "notifications": {"cc_field": "kopio", "batch_seconds": 0},
            "some_future_key": True,
        }
    )
    assert settings.max_attachments == 3 and settings.editable_after_creation == ("summary", "severity")
    assert settings.subject_tag == "{reference}"  # an empty tag is no tag
    assert settings.notifications.cc_field == "kopio" and settings.notifications.batch_seconds == 0


def test_settings_are_parsed_once_per_configuration_version(app, make_tenant):
    make_tenant("festum")
    with app.app_context():
        context = get_tenant_context("festum")
        first = tenant_settings(context)
        assert tenant_settings(context) is first  # the same object: parsed once
        row = db.session.execute(select(Tenant).where(Tenant.slug == "festum")).scalar_one()
        assert tenant_settings(row) is first  # the row and the snapshot share the version

        changed = export_definition("festum")
        changed["settings"]["max_attachments"] = first.max_attachments + 1
        apply_definition(changed)  # a configuration change bumps the version
        db.session.commit()
        again = tenant_settings(get_tenant_context("festum"))
    assert again is not first and again.max_attachments == first.max_attachments + 1


def test_a_setting_changed_without_a_version_bump_is_still_seen(app, make_tenant):
    tenant = make_tenant("festum")
    with app.app_context():
        row = db.session.get(Tenant, tenant.id)
        before = tenant_settings(row)
        row.settings = {**row.settings, "default_sharing": "organization"}
        assert tenant_settings(row).default_sharing == "organization"
        assert before.default_sharing == "private"


def test_pages_read_the_settings_object_too(client, make_tenant):
    from tests.conftest import portal_url

    make_tenant("crmservice")  # invite only, with a support address
    page = client.get(portal_url("crmservice", "/register")).get_data(as_text=True)
    assert 'href="mailto:support@crmservice.example"' in page
