"""The console's Workflows page creates workflows: a new one (optionally a copy of another one's steps)
is chosen by a request type and its requests follow it; a workflow request types follow stays."""

import re

import pytest
import yaml
from markupsafe import escape
from sqlalchemy import select

from app.admin.models import ConfigChange
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket
from app.workflow.models import Workflow
from tests.admin.conftest import config_version as _version, row_count as _count
from tests.conftest import DEMO_TENANTS, portal_url, translated, translated_plural

ADMIN, AGENT, CUSTOMER = "admin@targito.test", "agent@targito.test", "zakaznik@firma.cz"
QUICK = {
    "key": "quick",
    "name.cs": "Rychlé dotazy",
    "name.en": "Quick questions",
    "initial_status": "received",
    "copy_from": "support",
}


def url(path):
    return portal_url("targito", "/admin/config" + path)


@pytest.fixture
def targito(make_tenant, make_user):
    tenant = make_tenant("targito")
    make_user(tenant, ADMIN, role="admin")
    make_user(tenant, AGENT, role="agent")
    make_user(tenant, CUSTOMER)
    return tenant


def _exported(client):
    return yaml.safe_load(client.get(url("/export.yaml")).data)


def test_a_new_workflow_copied_from_another_is_chosen_by_a_new_request_type_and_used_by_its_requests(
    app, client, targito, login
):
    login("targito", ADMIN)
    page = client.get(url("/workflows")).get_data(as_text=True)
    assert translated(app, "cs", "Add a workflow") in page
    form = client.get(url("/workflows/new?copy_from=support")).get_data(as_text=True)
    assert re.search(r'<option value="support"\s+selected', form)

    saved = client.post(url("/workflows/new"), data=QUICK, follow_redirects=True)
    assert saved.request.path == "/admin/config/workflows"
    assert str(
        escape(
            translated(
                app, "cs", "Saved: %(summary)s.", summary=translated(app, "cs", "workflow '%(key)s'", key="quick")
            )
        )
    ) in saved.get_data(as_text=True)
    workflows = {w["key"]: w for w in _exported(client)["workflows"]}
    assert workflows["quick"]["name"] == {"cs": "Rychlé dotazy", "en": "Quick questions"}
    assert workflows["quick"]["initial_status"] == "received"
    assert workflows["quick"]["transitions"] == workflows["support"]["transitions"]

    # The copy is the new workflow's own: a step deleted from it stays in the original.
    assert client.post(url("/workflows/quick/transitions/to_development/delete")).status_code == 302
    workflows = {w["key"]: w for w in _exported(client)["workflows"]}
    assert "to_development" not in [t["key"] for t in workflows["quick"]["transitions"]]
    assert "to_development" in [t["key"] for t in workflows["support"]["transitions"]]

    # A new request type chooses it on its page.
    form = client.get(url("/request-types/new?portal=support")).get_data(as_text=True)
    assert '<option value="quick" >Rychlé dotazy (quick)</option>' in form
    response = client.post(
        url("/request-types/new"),
        data={
            "key": "quick-question",
            "name.cs": "Rychlý dotaz",
            "name.en": "Quick question",
            "portal": "support",
            "form": "request",
            "workflow": "quick",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Rychlý dotaz" in client.get(url("/workflows/quick")).get_data(as_text=True)  # used by
    client.post(portal_url("targito", "/logout"))

    # A request raised with that type starts in the new workflow's initial status and offers its steps.
    login("targito", CUSTOMER)
    raised = client.post(
        portal_url("targito", "/portals/support/quick-question/new"),
        data={"field_summary": "Jak exportovat kontakty?", "field_description": "Díky", "share_with": "private"},
    )
    assert raised.status_code == 302, raised.get_data(as_text=True)
    reference = raised.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context(), tenant_scope(targito.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()
        assert ticket.status.key == "received"
        assert db.session.get(Workflow, ticket.request_type.workflow_id).key == "quick"
    client.post(portal_url("targito", "/logout"))
    login("targito", AGENT)
    request_page = client.get(portal_url("targito", f"/requests/{reference}")).get_data(as_text=True)
    assert "Předat na PM" in request_page and "Předat do vývoje" not in request_page
    client.post(portal_url("targito", "/logout"))

    login("targito", ADMIN)
    audit = client.get(url("/audit")).get_data(as_text=True)
    for msgid, values in (
        ("workflow '%(key)s'", {"key": "quick"}),
        ("created workflow '%(key)s'", {"key": "quick"}),
        ("deleted transition '%(key)s' of workflow '%(workflow)s'", {"key": "to_development", "workflow": "quick"}),
        ("request type '%(key)s'", {"key": "quick-question"}),
    ):
        assert str(escape(translated(app, "cs", msgid, **values))) in audit, msgid


def test_a_new_workflow_without_steps_and_its_name_edited(app, client, targito, login):
    login("targito", ADMIN)
    response = client.post(url("/workflows/new"), data={**QUICK, "copy_from": ""})
    assert response.status_code == 302
    page = client.get(url("/workflows")).get_data(as_text=True)
    assert translated(app, "cs", "No steps yet.") in page
    assert {w["key"]: w for w in _exported(client)["workflows"]}["quick"]["transitions"] == []
    renamed = client.post(
        url("/workflows/quick"), data={"name.cs": "Dotazy", "name.en": "Questions", "initial_status": "open"}
    )
    assert renamed.status_code == 302
    quick = {w["key"]: w for w in _exported(client)["workflows"]}["quick"]
    assert quick["name"] == {"cs": "Dotazy", "en": "Questions"} and quick["initial_status"] == "open"


def test_invalid_new_workflows_are_refused_in_the_admins_language_and_change_nothing(app, client, targito, login):
    login("targito", ADMIN)
    version, workflows, changes = _version(app), _count(app, targito, Workflow), _count(app, targito, ConfigChange)

    missing = client.post(url("/workflows/new"), data={**QUICK, "name.en": ""})
    assert missing.status_code == 422
    text = missing.get_data(as_text=True)
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
    assert str(escape(translated(app, "cs", "workflow '%(key)s'", key="quick"))) in text
    assert 'value="Rychlé dotazy"' in text
    unknown = client.post(url("/workflows/new"), data={**QUICK, "initial_status": "nosuch"})
    assert unknown.status_code == 422
    assert str(escape(translated(app, "cs", "unknown status '%(key)s'", key="nosuch"))) in unknown.get_data(
        as_text=True
    )
    taken = client.post(url("/workflows/new"), data={**QUICK, "key": "support"})
    assert taken.status_code == 422 and str(
        escape(translated(app, "cs", "There is already a workflow with the key %(key)s.", key="support"))
    ) in taken.get_data(as_text=True)
    no_source = client.post(url("/workflows/new"), data={**QUICK, "copy_from": "nosuch"})
    assert no_source.status_code == 422 and str(
        escape(translated(app, "cs", "'%(key)s' does not exist (any more).", key="nosuch"))
    ) in no_source.get_data(as_text=True)

    assert (_version(app), _count(app, targito, Workflow), _count(app, targito, ConfigChange)) == (
        version,
        workflows,
        changes,
    )


def test_a_workflow_that_request_types_follow_is_not_deleted(app, client, targito, login):
    login("targito", ADMIN)
    version = _version(app)
    refused = client.post(url("/workflows/support/delete"))
    assert refused.status_code == 422
    types = ", ".join(
        f"{name} (support/{key})"
        for key, name in (
            ("support", "Potřebuji podporu – mám otázku ohledně Targita"),
            ("bug", "Něco mi nefunguje"),
            ("feature", "Mám námět na novou funkci"),
        )
    )
    assert str(
        escape(
            translated_plural(
                app,
                "cs",
                "Request type %(types)s follows workflow '%(key)s': choose another workflow for it first.",
                "Request types %(types)s follow workflow '%(key)s': choose another workflow for them first.",
                3,
                types=types,
                key="support",
            )
        )
    ) in refused.get_data(as_text=True)
    assert _version(app) == version

    # A workflow nobody follows is deleted.
    assert client.post(url("/workflows/new"), data={**QUICK, "key": "spare"}).status_code == 302
    deleted = client.post(url("/workflows/spare/delete"), follow_redirects=True)
    assert str(
        escape(
            translated(
                app,
                "cs",
                "Saved: %(summary)s.",
                summary=translated(app, "cs", "deleted workflow '%(key)s'", key="spare"),
            )
        )
    ) in deleted.get_data(as_text=True)
    assert "spare" not in {w["key"] for w in _exported(client)["workflows"]}


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_the_workflow_pages_read_in_every_language_of_the_tenant(app, client, make_tenant, make_user, login, slug):
    """No English left over from the catalog and no empty label on the Workflows page, the new-workflow
    form, each workflow's page and a refused deletion, in each of the tenant's languages."""
    from tests.i18n.test_every_page_translated import _catalog_pairs, leftovers

    tenant = make_tenant(slug)
    with app.app_context(), tenant_scope(tenant.id):
        keys = db.session.scalars(select(Workflow.key).order_by(Workflow.id)).all()
    for lang in tenant.locales:
        email = f"admin-{lang}@{slug}.test"
        make_user(tenant, email, role="admin", locale=lang)
        login(slug, email)
        pairs = _catalog_pairs(lang) if lang != "en" else []
        config = lambda path: portal_url(slug, "/admin/config" + path)  # noqa: E731
        paths = ["/workflows", "/workflows/new", f"/workflows/new?copy_from={keys[0]}"] + [
            f"/workflows/{k}" for k in keys
        ]
        pages = [client.get(config(path)) for path in paths]
        pages.append(client.post(config(f"/workflows/{keys[0]}/delete")))
        pages.append(client.post(config("/workflows/new"), data={"key": keys[0]}))
        for response in pages:
            assert response.status_code in (200, 422), response.request.path
            english, empty = leftovers(response.get_data(as_text=True), pairs)
            assert (english, empty) == ([], []), (lang, response.request.path)
        client.post(portal_url(slug, "/logout"))
