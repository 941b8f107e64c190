"""The console's Queues page: the agents' queues edited as the definition's queues.yaml, validated like
`flask tenants sync`, seen by the agents at once, exported and audited."""

import io
import re
import zipfile
from html.parser import HTMLParser

import pytest
import yaml
from markupsafe import escape
from sqlalchemy import select

from app.accounts.models import User
from app.admin.models import ConfigChange
from app.agent.models import Queue
from app.catalog.models import RequestType
from app.extensions import db
from app.unit_of_work import unit
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket
from app.tickets.services import raise_request
from app.workflow.models import Status
from tests.admin.conftest import config_version as _version, row_count as _count
from tests.conftest import DEMO_TENANTS, portal_url, translated, translated_plural

ADMIN, AGENT, OTHER_AGENT, CUSTOMER = (
    "admin@targito.test",
    "agent@targito.test",
    "kolega@targito.test",
    "zakaznik@firma.cz",
)


def url(path, slug="targito"):
    return portal_url(slug, "/admin/config" + path)


@pytest.fixture
def targito(make_tenant, make_user):
    tenant = make_tenant("targito")
    make_user(tenant, ADMIN, role="admin")
    make_user(tenant, AGENT, role="agent", name="Petr Podpora")
    make_user(tenant, OTHER_AGENT, role="agent", name="Pavla Kolegová")
    make_user(tenant, CUSTOMER, name="Jana")
    return tenant


def _raise(app, tenant, slug, summaries):
    """One request per summary, raised by the tenant's first customer through the ticket service."""
    with app.test_request_context(portal_url(slug)), tenant_scope(tenant.id), unit():
        from flask import g

        g.tenant = get_tenant_context(slug)
        customer = db.session.scalars(select(User).where(User.role == "customer")).first()
        request_type = db.session.scalars(select(RequestType).order_by(RequestType.id)).first()
        return [
            raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=customer,
                created_by=customer,
                values={"summary": summary, "description": "x"},
            ).reference
            for summary in summaries
        ]


def _set_status(app, tenant, reference, status_key):
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()
        ticket.status_id = db.session.execute(select(Status.id).where(Status.key == status_key)).scalar_one()
        db.session.commit()


def _user_id(app, tenant, email):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(select(User.id).where(User.email == email)).scalar_one()


def _refs(html):
    return sorted(set(re.findall(r'href="/requests/(TAR-\d+)"', html)))


def _queue_count(html, key):
    match = re.search(rf'href="/agent/queues/{key}"[^>]*>[^<]*<span class="count">(\d+)</span>', html)
    return int(match.group(1)) if match else None


def _exported_queues(client, slug="targito"):
    archive = zipfile.ZipFile(io.BytesIO(client.get(url("/export.zip", slug)).data))
    return yaml.safe_load(archive.read(f"{slug}/queues.yaml"))["queues"]


MY_PM = {
    "key": "my_pm",
    "name.cs": "Moje u PM",
    "name.en": "Mine at PM",
    "status": "open",
    "statuses": ["waiting_for_pm", "waiting_for_development"],
    "assignee": "me",
    "portal": "",
    "sort": "created",
    "sort_order": "asc",
    "sla": "",
}


def test_an_admin_adds_a_queue_and_the_agent_sees_its_requests_and_count(app, client, targito, login):
    refs = _raise(app, targito, "targito", ["U PM, moje", "U PM, nikoho", "Ve vývoji, moje", "Přijatý, můj"])
    for ref in refs[:2]:
        _set_status(app, targito, ref, "waiting_for_pm")
    _set_status(app, targito, refs[2], "waiting_for_development")
    _set_status(app, targito, refs[3], "received")
    login("targito", AGENT)
    agent_id = _user_id(app, targito, AGENT)
    for ref in (refs[0], refs[2], refs[3]):
        assert (
            client.post(portal_url("targito", f"/requests/{ref}/assign"), data={"assignee": str(agent_id)}).status_code
            == 302
        )
    client.post(portal_url("targito", "/logout"))

    login("targito", ADMIN)
    form = client.get(url("/queues/new"))
    assert form.status_code == 200
    assert translated(app, "cs", "New queue") in form.get_data(as_text=True)
    saved = client.post(url("/queues/new"), data=MY_PM, follow_redirects=True)
    text = saved.get_data(as_text=True)
    assert saved.status_code == 200 and saved.request.path == "/admin/config/queues"
    assert (
        str(
            escape(
                translated(
                    app, "cs", "Saved: %(summary)s.", summary=translated(app, "cs", "queue '%(key)s'", key="my_pm")
                )
            )
        )
        in text
    )
    assert "Moje u PM" in text and translated(app, "cs", "The agent looking at the queue") in text
    client.post(portal_url("targito", "/logout"))

    # The agent sees the new queue with its own requests in those statuses, oldest first.
    login("targito", AGENT)
    page = client.get(portal_url("targito", "/agent/queues/my_pm")).get_data(as_text=True)
    assert "<h1>Moje u PM</h1>" in page
    assert _refs(page) == sorted([refs[0], refs[2]])
    ordered = list(dict.fromkeys(re.findall(r'href="/requests/(TAR-\d+)"', page)))
    assert ordered == [refs[0], refs[2]]  # the queue's sort: created, oldest first
    assert _queue_count(page, "my_pm") == 2 and _queue_count(page, "waiting_for_pm") == 2
    client.post(portal_url("targito", "/logout"))
    # "Assigned to me" is whoever looks: another agent's queue is empty.
    login("targito", OTHER_AGENT)
    page = client.get(portal_url("targito", "/agent/queues/my_pm")).get_data(as_text=True)
    assert _refs(page) == [] and _queue_count(page, "my_pm") == 0
    client.post(portal_url("targito", "/logout"))

    # The export has it in queues.yaml, in the definition's own words (defaults left out).
    login("targito", ADMIN)
    exported = {q["key"]: q for q in _exported_queues(client)}
    assert exported["my_pm"] == {
        "key": "my_pm",
        "name": {"cs": "Moje u PM", "en": "Mine at PM"},
        "filters": {"statuses": ["waiting_for_pm", "waiting_for_development"], "assignee": "me", "sort": "created"},
    }
    audit = client.get(url("/audit")).get_data(as_text=True)
    assert str(escape(translated(app, "cs", "queue '%(key)s'", key="my_pm"))) in audit
    assert str(escape(translated(app, "cs", "created queue '%(key)s'", key="my_pm"))) in audit


def test_invalid_queues_are_refused_in_the_admins_language_and_change_nothing(app, client, targito, login):
    login("targito", ADMIN)
    version, queues, changes = _version(app), _count(app, targito, Queue), _count(app, targito, ConfigChange)

    unknown_status = client.post(url("/queues/new"), data={**MY_PM, "statuses": ["waiting_for_pm", "nosuch"]})
    assert unknown_status.status_code == 422
    text = unknown_status.get_data(as_text=True)
    assert str(escape(translated(app, "cs", "unknown status '%(key)s'", key="nosuch"))) in text
    assert str(escape(translated(app, "cs", "queue '%(key)s'", key="my_pm"))) in text
    assert translated(app, "cs", "Nothing was changed. Please correct the following:") in text

    missing_language = client.post(url("/queues/new"), data={**MY_PM, "name.en": ""})
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
    # The problem's place is named in the admin's words too: "queue 'my_pm' › name", in Czech.
    assert (
        str(escape(translated(app, "cs", "queue '%(key)s'", key="my_pm") + " › " + translated(app, "cs", "name")))
        in text
    )
    # The form keeps what was typed and ticked.
    assert 'value="Moje u PM"' in text
    assert re.search(r'value="waiting_for_pm"\s+checked', text)
    assert re.search(r'<option value="me"\s+selected', text)

    bad_key = client.post(url("/queues/new"), data={**MY_PM, "key": "Moje PM"})
    assert bad_key.status_code == 422 and str(
        escape(
            translated(
                app, "cs", "The key must be lowercase letters, digits, '-' or '_' (at most 63), e.g. 'bug-report'."
            )
        )
    ) in bad_key.get_data(as_text=True)
    taken = client.post(url("/queues/new"), data={**MY_PM, "key": "mine"})
    assert taken.status_code == 422 and str(
        escape(translated(app, "cs", "There is already a queue with the key %(key)s.", key="mine"))
    ) in taken.get_data(as_text=True)
    no_sla = client.post(url("/queues/new"), data={**MY_PM, "sla": "breached"})  # Targito has no SLA targets
    assert no_sla.status_code == 422 and str(
        escape(translated(app, "cs", "the sla filter needs SLA targets (sla.yaml)"))
    ) in no_sla.get_data(as_text=True)
    unknown_type = client.post(url("/queues/new"), data={**MY_PM, "request_types": ["support/nosuch"]})
    assert unknown_type.status_code == 422 and str(
        escape(translated(app, "cs", "unknown request type '%(key)s'", key="support/nosuch"))
    ) in unknown_type.get_data(as_text=True)
    unknown_option = client.post(url("/queues/new"), data={**MY_PM, "fields.priority": ["urgent"]})
    assert unknown_option.status_code == 422 and str(
        escape(translated(app, "cs", "'%(value)s' is not an option of '%(field)s'", value="urgent", field="priority"))
    ) in unknown_option.get_data(as_text=True)

    assert (_version(app), _count(app, targito, Queue), _count(app, targito, ConfigChange)) == (
        version,
        queues,
        changes,
    )
    assert client.get(url("/queues/my_pm")).status_code == 404


def test_queues_are_edited_reordered_and_deleted(app, client, targito, login):
    login("targito", ADMIN)
    keys = [q["key"] for q in _exported_queues(client)]
    assert keys[:2] == ["unassigned", "mine"]

    assert client.post(url("/queues/move"), data={"key": "mine", "direction": "up"}).status_code == 302
    assert [q["key"] for q in _exported_queues(client)][:2] == ["mine", "unassigned"]

    # Every field of a queue: statuses, request types, a choice field, sort, name.
    edited = client.post(
        url("/queues/waiting_for_pm"),
        data={
            "name.cs": "PM: chyby",
            "name.en": "PM: bugs",
            "status": "all",
            "statuses": ["waiting_for_pm", "done"],
            "assignee": "none",
            "portal": "support",
            "request_types": ["support/bug"],
            "fields.priority": ["high"],
            "sort": "reference",
            "sort_order": "desc",
            "sla": "",
        },
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)
    exported = {q["key"]: q for q in _exported_queues(client)}
    assert exported["waiting_for_pm"] == {
        "key": "waiting_for_pm",
        "name": {"cs": "PM: chyby", "en": "PM: bugs"},
        "filters": {
            "status": "all",
            "statuses": ["waiting_for_pm", "done"],
            "assignee": "none",
            "portal": "support",
            "request_types": ["support/bug"],
            "fields": {"priority": ["high"]},
            "sort": "-reference",
        },
    }
    # A status its status group leaves out is saved, with a warning that the queue never shows it.
    warned = client.post(
        url("/queues/waiting_for_pm"),
        data={
            "name.cs": "PM: chyby",
            "name.en": "PM: bugs",
            "status": "open",
            "statuses": ["waiting_for_pm", "done"],
            "assignee": "none",
            "sort": "reference",
            "sort_order": "desc",
        },
        follow_redirects=True,
    )
    assert str(
        escape(
            translated(
                app,
                "cs",
                "The queue never shows requests in %(statuses)s: they are not in its status group %(group)s.",
                statuses="Done",
                group=translated(app, "cs", "Open and waiting"),
            )
        )
    ) in warned.get_data(as_text=True)

    deleted = client.post(url("/queues/waiting_for_pm/delete"), follow_redirects=True)
    assert deleted.status_code == 200
    assert str(
        escape(
            translated(
                app,
                "cs",
                "Saved: %(summary)s.",
                summary=translated(app, "cs", "deleted queue '%(key)s'", key="waiting_for_pm"),
            )
        )
    ) in deleted.get_data(as_text=True)
    assert "waiting_for_pm" not in {q["key"] for q in _exported_queues(client)}
    # The status the queue filtered by can be deleted now (no request is in it, no queue names it).
    assert client.post(url("/statuses/waiting_for_pm/delete")).status_code == 302
    client.post(portal_url("targito", "/logout"))
    login("targito", AGENT)
    assert client.get(portal_url("targito", "/agent/queues/waiting_for_pm")).status_code == 404
    page = client.get(portal_url("targito", "/agent/queues/mine")).get_data(as_text=True)
    assert page.index('href="/agent/queues/mine"') < page.index('href="/agent/queues/unassigned"')
    client.post(portal_url("targito", "/logout"))

    login("targito", ADMIN)
    audit = client.get(url("/audit")).get_data(as_text=True)
    for msgid, values in (
        ("order of the queues", {}),
        ("queue '%(key)s'", {"key": "waiting_for_pm"}),
        ("deleted queue '%(key)s'", {"key": "waiting_for_pm"}),
    ):
        assert str(escape(translated(app, "cs", msgid, **values))) in audit, msgid


class _Form(HTMLParser):
    """The values a browser would send for the console's edit form (the one with ``novalidate``)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: list[tuple[str, str]] = []
        self._inside = False
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "novalidate" in a:
            self._inside = True
        if not self._inside:
            return
        if tag == "input" and a.get("name") and a.get("name") != "csrf_token":
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.append((a["name"], a.get("value", "on")))
            else:
                self.values.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._inside = False


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_every_demo_queue_saved_unchanged_from_its_form_changes_nothing(
    app, client, make_tenant, make_user, login, slug
):
    """Every filter the demo tenants use is shown on the form and sent back as it was (Exea's request type
    in any portal, Festum's Jono field, CRM-service's SLA queue ...)."""
    tenant = make_tenant(slug)
    make_user(tenant, f"admin@{slug}.test", role="admin")
    login(slug, f"admin@{slug}.test")
    version = _version(app, slug)
    keys = [q["key"] for q in _exported_queues(client, slug)]
    assert keys
    for key in keys:
        form = _Form()
        form.feed(client.get(url(f"/queues/{key}", slug)).get_data(as_text=True))
        data = {}
        for name, value in form.values:
            data.setdefault(name, []).append(value)
        saved = client.post(url(f"/queues/{key}", slug), data=data, follow_redirects=True)
        assert saved.status_code == 200, (key, saved.get_data(as_text=True))
        assert translated(app, tenant.default_locale, "Nothing changed.") in saved.get_data(as_text=True), key
    assert _version(app, slug) == version


def test_a_tenant_without_queues_is_told_of_the_presets_and_starts_from_them(
    app, client, make_tenant, make_user, login
):
    festum = make_tenant("festum", queues=[])
    make_user(festum, "admin@festum.test", role="admin")
    login("festum", "admin@festum.test")
    page = client.get(url("/queues", "festum")).get_data(as_text=True)
    assert (
        str(escape(translated(app, "fi", "This portal has no queues of its own: agents see the preset queues below.")))
        in page
    )
    for msgid in (
        "Unassigned",
        "Assigned to me",
        "Waiting for the customer",
        "All open",
        "Resolved",
        "Start from the presets",
    ):
        assert str(escape(translated(app, "fi", msgid))) in page, msgid

    started = client.post(url("/queues/presets", "festum"), follow_redirects=True)
    assert str(
        escape(
            translated(
                app, "fi", "Saved: %(summary)s.", summary=translated(app, "fi", "queues started from the presets")
            )
        )
    ) in started.get_data(as_text=True)
    exported = _exported_queues(client, "festum")
    assert [q["key"] for q in exported] == ["unassigned", "mine", "waiting", "open", "resolved"]
    assert exported[0]["name"] == {"fi": translated(app, "fi", "Unassigned"), "en": "Unassigned"}
    assert exported[2]["filters"] == {"status": "waiting"}
    # Once the portal has queues, starting again is refused.
    again = client.post(url("/queues/presets", "festum"), follow_redirects=True)
    assert str(escape(translated(app, "fi", "This portal already has queues of its own."))) in again.get_data(
        as_text=True
    )
    assert len(_exported_queues(client, "festum")) == 5


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_the_queue_pages_read_in_every_language_of_the_tenant(app, client, make_tenant, make_user, login, slug):
    """No English left over from the catalog and no empty label, in each of the tenant's languages
    (the list, a new queue, each demo queue, a refused save; the presets when it has none)."""
    from tests.i18n.test_every_page_translated import _catalog_pairs, leftovers

    tenant = make_tenant(slug)
    keys = [q["key"] for q in tenant_queues_of(app, tenant)]
    for lang in tenant.locales:
        email = f"admin-{lang}@{slug}.test"
        make_user(tenant, email, role="admin", locale=lang)
        login(slug, email)
        pairs = _catalog_pairs(lang) if lang != "en" else []
        pages = [client.get(url(path, slug)) for path in ["/queues", "/queues/new"] + [f"/queues/{k}" for k in keys]]
        pages.append(client.post(url("/queues/new", slug), data={"key": "x", "statuses": ["nosuch"]}))
        for response in pages:
            assert response.status_code in (200, 422), response.request.path
            english, empty = leftovers(response.get_data(as_text=True), pairs)
            assert (english, empty) == ([], []), (lang, response.request.path)
        client.post(portal_url(slug, "/logout"))


def tenant_queues_of(app, tenant):
    with app.app_context(), tenant_scope(tenant.id):
        return [{"key": q.key} for q in db.session.scalars(select(Queue).order_by(Queue.position))]
