"""Attack strings from public payload lists through every text people type, and where they show up.

- XSS (payloads/xss.txt) through what customers, agents and tenant admins submit -- request fields
  and file names, comments and internal notes, forwarded notes, help articles (title, category,
  Markdown body), profile names, organization names, and the tenant's configurable
  strings (status, portal, request type, field and option, queue, workflow, transition and rule names,
  UI-text overrides, set through the
  console's own service) -- must never appear unescaped in the pages that show them nor in the HTML
  e-mails sent about them.
- Header injection (payloads/header_injection.txt) through request summaries, names and the portal's
  name must never add a header to an e-mail (read back from the outbox Maildir the worker delivers to).
- Path traversal (payloads/path_traversal.txt) through attachment names and download URLs must never
  leave the tenant's storage prefix.

Escaping happens in templates and the e-mail writer, not in the database: these tests run on SQLite
only, to stay fast.
"""

from __future__ import annotations

import codecs
import itertools
import email
import io
import re
from email import policy as email_policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from tests.conftest import portal_url

PAYLOADS = Path(__file__).parent / "payloads"
SLUG = "festum"
CUSTOMER, AGENT, ADMIN = "asiakas@yritys.fi", "agentti@festum.test", "admin@festum.test"
PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def payloads(name: str) -> list[str]:
    lines = (PAYLOADS / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def groups(lines: list[str], *, size: int = 4, chars: int = 480) -> list[list[str]]:
    """The payloads a few at a time (one request carries several: fewer requests and e-mails), each
    group short enough for a summary."""
    packed: list[list[str]] = [[]]
    for line in lines:
        if len(packed[-1]) == size or sum(len(p) + 1 for p in packed[-1]) + len(line) > chars:
            packed.append([])
        packed[-1].append(line)
    return packed


def header_payloads() -> list[str]:
    """The header-injection lines with their written-out escapes (\\r\\n, \\u2028...) turned into characters."""
    return [
        codecs.decode(line.encode("ascii", "backslashreplace"), "unicode_escape")
        for line in payloads("header_injection.txt")
    ]


# --- reading pages and e-mails ------------------------------------------------------------------------

# Quotes and ampersands are harmless in text (the parser below catches an attribute broken out of);
# a raw "<" of a payload is markup that got through.
SPECIAL = {"<"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcdoc", "content", "background", "poster"}
# Tags that load or redirect by themselves (a link the reader chooses to follow is a link: typed URLs
# are linked, with rel="nofollow").
LOADING_TAGS = {"base", "link", "script", "iframe", "img", "meta", "object", "embed", "frame", "style", "form"}
ALERT = re.compile(r"alert\s*(\(|`)\s*['\"`]?xss", re.IGNORECASE)


class _Executable(HTMLParser):
    """Finds what only an unescaped payload could have made: an event handler, script text or a
    javascript: URL carrying the payloads' marker, or anything pointing at evil.example."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            lowered = re.sub(r"[\x00-\x20]", "", value).lower()
            if name.startswith("on") and "xss" in lowered:
                self.found.append(f"<{tag} {name}={value!r}>")
            elif name in URL_ATTRIBUTES and (
                "javascript:" in lowered or (tag in LOADING_TAGS and "evil.example" in lowered)
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "script" and ALERT.search(data):
            self.found.append(f"<script>{data[:80]}")
        if self._in == "style" and "evil.example" in data:
            self.found.append(f"<style>{data[:80]}")


def unescaped(html: str, sent: list[str]) -> list[str]:
    """The payloads (of ``sent``) that appear unescaped in ``html``, and anything executable they made."""
    problems = [
        f"raw: {p[:70]!r}"
        for p in sent
        if SPECIAL & set(p) and re.search(r"<\s*/?\s*[a-z!]", p, re.IGNORECASE) and p in html
    ]
    problems += [f"template evaluated: {p!r}" for p in sent if "{{7*7}}" in p and "49xss" in html]
    parser = _Executable()
    parser.feed(html)
    return problems + parser.found


def assert_escaped(pages: dict[str, str], sent: list[str]) -> None:
    found = {where: problems for where, html in pages.items() if (problems := unescaped(html, sent))}
    assert not found, "Payloads unescaped:\n" + "\n".join(
        f"{where}: {problems[:5]}" for where, problems in found.items()
    )


def _deliver_all(app) -> None:
    """Compose every due notification and deliver the outbox as the worker does (to the Maildir)."""
    from datetime import timedelta

    from rq import SimpleWorker

    from app.db_types import utcnow
    from app.jobs import AppJob, get_queue
    from app.notifications.jobs import sweep_notifications
    from app.outbox.jobs import sweep_outbox

    with app.app_context():
        queue = get_queue()
        for sweep in (sweep_notifications, sweep_outbox):
            sweep(now=utcnow() + timedelta(days=2))
            SimpleWorker([queue], connection=queue.connection, job_class=AppJob).work(burst=True)


def delivered_emails(app) -> list[email.message.EmailMessage]:
    _deliver_all(app)
    folder = Path(app.config["MAIL_URL"].removeprefix("maildir://")) / "new"
    return (
        [email.message_from_bytes(path.read_bytes(), policy=email_policy.default) for path in sorted(folder.iterdir())]
        if folder.is_dir()
        else []
    )


def html_of(message) -> str:
    part = message.get_body(("html",))
    return part.get_content() if part is not None else ""


def outbox_rows(app) -> list:
    from app.outbox.models import OutboxMessage
    from app.tenancy.scoping import all_tenants

    with app.app_context(), all_tenants():
        return db.session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.last_error, OutboxMessage.body_html)
        ).all()


# --- the tenant and its people ---------------------------------------------------------------------------


@pytest.fixture
def festum(app, make_tenant, make_user):
    tenant = make_tenant(SLUG)
    ids = {
        "customer": make_user(tenant, CUSTOMER, name="Asiakas"),
        "agent": make_user(tenant, AGENT, role="agent", name="Agentti"),
        "admin": make_user(tenant, ADMIN, role="admin", name="Admin"),
    }
    return tenant, ids


def _client(app, email_address: str):
    client = app.test_client()
    response = client.post(portal_url(SLUG, "/login"), data={"email": email_address, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _raise(client, summary: str, description: str = "", files=(), **fields) -> str:
    data = {
        "field_summary": summary,
        "field_description": description,
        "field_severity": "normaali",
        "field_attachments": [(io.BytesIO(content), name) for name, content in files],
        **{f"field_{key}": value for key, value in fields.items()},
    }
    response = client.post(
        portal_url(SLUG, "/portals/asiakastuki/palvelupyynto/new"), data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"].rsplit("/", 1)[1]


def _page(client, path: str) -> str:
    response = client.get(portal_url(SLUG, path))
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


# --- XSS ------------------------------------------------------------------------------------------------


def test_xss_from_customers_and_agents_is_escaped_in_pages_and_emails(app, festum):
    xss = payloads("xss.txt")
    customer, agent, admin = _client(app, CUSTOMER), _client(app, AGENT), _client(app, ADMIN)
    _tenant, ids = festum
    pages: dict[str, str] = {}
    # Profile names: saved, then shown on the profile page and to the tenant admin.
    for n, payload in enumerate(xss):
        response = customer.post(
            portal_url(SLUG, "/profile"), data={"name": payload, "locale": "fi", "timezone": "Europe/Helsinki"}
        )
        assert response.status_code in (302, 422)
        if n % 8 == 0:
            pages[f"profile after name {n}"] = _page(customer, "/profile")
            pages[f"admin user page after name {n}"] = _page(admin, f"/admin/users/{ids['customer']}")
    # Requests: summary, description, a file name; comments both ways.
    references = []
    for group in groups(xss):
        reference = _raise(
            customer,
            " ".join(group),
            "\n".join(group),
            files=[(f"{payload}.txt", b"x") for payload in group],
            cc=" ".join(group)[:1000],
        )
        references.append(reference)
        agent.post(portal_url(SLUG, f"/requests/{reference}/comments"), data={"body": "\n\n".join(group)})
    customer.post(portal_url(SLUG, f"/requests/{references[0]}/comments"), data={"body": "\n".join(xss)})
    # An agent's internal note, and a summary forwarded outside with the agent's note.
    agent.post(portal_url(SLUG, f"/requests/{references[0]}/comments"), data={"body": "\n".join(xss), "internal": "1"})
    response = agent.post(
        portal_url(SLUG, f"/requests/{references[0]}/forward"),
        data={"email": "liitto@example.test", "note": "\n".join(xss)},
    )
    assert response.status_code == 302
    # Help articles written by the agent (title, category, Markdown body), read by customers.
    slugs = []
    for n, group in enumerate(groups(xss, chars=280)):
        response = agent.post(
            portal_url(SLUG, "/help/manage/new"),
            data={
                "title": " ".join(group),
                "category": group[0][:120],
                "language": "fi",
                "visibility": "public",
                "portal": "",
                "body": "\n\n".join(group + [f"[xss{n}](javascript:alert('xss'))"]),
                "action": "publish",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:1000]
        article_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        pages[f"article editor {article_id}"] = _page(agent, f"/help/manage/{article_id}")
    pages["help index"] = _page(customer, "/help/")
    pages["help manage"] = _page(agent, "/help/manage/")
    for link in sorted(set(re.findall(r'href="(/help/articles/[^"?#]+)"', pages["help index"]))):
        pages[f"article {link}"] = _page(customer, link)
        slugs.append(link)
    assert slugs, "the published articles are not listed"
    pages["help search"] = _page(customer, "/help/search?q=xss")
    pages["customer's list"] = _page(customer, "/requests")
    pages["agent queue"] = _page(agent, "/agent/queues/open")
    pages["admin users"] = _page(admin, "/admin/users")
    for n, reference in enumerate(references):
        pages[f"request {reference} (customer)"] = _page(customer, f"/requests/{reference}")
        if n % 2 == 0 or n == len(references) - 1:
            pages[f"request {reference} (agent)"] = _page(agent, f"/requests/{reference}")
    assert_escaped(pages, xss)
    # The e-mails about them: to the requester (agents' comments) and to the agents (new requests).
    messages = delivered_emails(app)
    assert len(messages) >= len(references), "the e-mails about the requests were not sent"
    assert_escaped({f"e-mail {m['Subject']!r} to {m['To']}": html_of(m) for m in messages}, xss)


def test_xss_in_inbound_email_is_escaped_for_agents_and_customers(app, festum):
    """Everything in an e-mail is the sender's to choose: a new request made from one (subject, body,
    attachment names) and a reply held for review show the payloads inert to agents and customers."""
    from email.message import EmailMessage
    from email.utils import make_msgid

    from app.mailin.intake import ingest
    from app.tickets.models import Ticket

    tenant, _ids = festum
    xss = payloads("xss.txt")
    support = (tenant.settings or {}).get("support_email") or "tuki@festum.fi"
    with app.app_context():
        for group in groups(xss):
            message = EmailMessage()
            message["From"] = f"Asiakas <{CUSTOMER}>"
            message["To"] = support
            message["Subject"] = " ".join(group)
            message["Message-ID"] = make_msgid(domain="yritys.fi")
            message.set_content("\n".join(group))
            message.add_attachment(b"x", maintype="text", subtype="plain", filename=f"{group[0][:60]}.txt")
            row = ingest(message.as_bytes(), tenant.id, source="cli")
            assert row.outcome in ("created", "new_request", "request"), (row.outcome, row.reason)
        from app.tenancy.scoping import tenant_scope

        with tenant_scope(tenant.id):
            references = list(db.session.scalars(select(Ticket.reference)))
        # A stranger's reply naming the first request: held, and shown to its agents for review.
        spoof = EmailMessage()
        spoof["From"] = "<script>alert('xss')</script>@evil.example"
        spoof["To"] = support
        spoof["Subject"] = f"Re: [Festum #1] {xss[0]}"
        spoof["Message-ID"] = make_msgid(domain="evil.example")
        spoof.set_content("\n".join(xss))
        ingest(spoof.as_bytes(), tenant.id, source="cli")
        db.session.commit()  # the boundary of `flask mail ingest` (app.unit_of_work)
    assert references, "no request was made from the e-mails"
    customer, agent = _client(app, CUSTOMER), _client(app, AGENT)
    pages = {"agent queue": _page(agent, "/agent/queues/open"), "customer's list": _page(customer, "/requests")}
    for reference in references:
        pages[f"request {reference} (agent)"] = _page(agent, f"/requests/{reference}")
        pages[f"request {reference} (customer)"] = _page(customer, f"/requests/{reference}")
    assert any('id="held-messages"' in html for html in pages.values()), "the held reply is not shown to agents"
    assert_escaped(pages, xss)


def test_xss_in_configurable_strings_and_organization_names_is_escaped(app, festum):
    from app.accounts.models import User
    from app.admin.services import change, find
    from app.admin.summaries import summary_of
    from app.tenancy.scoping import tenant_scope

    xss = payloads("xss.txt")
    customer, agent, admin = _client(app, CUSTOMER), _client(app, AGENT), _client(app, ADMIN)
    tenant, ids = festum
    # Organization names, typed into the admin's form.
    for payload in xss:
        response = admin.post(portal_url(SLUG, "/admin/organizations"), data={"name": payload})
        assert response.status_code in (302, 422)
    pages = {"organizations": _page(admin, "/admin/organizations"), "invite": _page(admin, "/admin/users/invite")}
    reference = _raise(customer, "Lasku ei tulostu", "Kuvaus")
    msgids = [
        "Requests",
        "Log out",
        "Reply above this line",
        "View the request",
        "Hello,",
        "Add a comment",
        "Send",
        "Language",
        "Administration",
        "Queues",
    ]
    # Two rounds: every configurable string of the definition gets one payload per round.
    for start in (0, len(xss) // 2):
        batch = itertools.cycle(xss[start:] + xss[:start])
        sent: list[str] = []

        def text() -> dict:
            value = next(batch)
            sent.append(value)
            return {"fi": value, "en": value}

        def mutate(d: dict) -> None:
            for status in d["statuses"]:
                status["name"], status["customer_name"] = text(), text()
            portal = d["portals"][0]
            portal["name"] = text()
            request_type = find(portal["request_types"], "palvelupyynto")
            request_type["name"], request_type["description"] = text(), text()
            for field in find(d["forms"], "palvelupyynto")["fields"]:
                field["label"], field["help"] = text(), text()
                for option in field.get("options") or []:
                    option["label"] = text()
            for queue in d.get("queues") or []:
                queue["name"] = text()
            for workflow in d.get("workflows") or []:
                workflow["name"] = text()
                for transition in workflow.get("transitions") or []:
                    transition["name"] = text()
            for rule in d.get("rules") or []:
                rule["name"] = text()
            d["strings"] = {lang: {msgid: text()["fi"] for msgid in msgids} for lang in ("fi", "en")}

        with app.test_request_context(portal_url(SLUG)), tenant_scope(tenant.id):
            from flask import g

            from app.tenancy.resolution import get_tenant_context

            g.tenant = get_tenant_context(SLUG)
            actor = db.session.get(User, ids["admin"])
            change(SLUG, mutate, actor=actor, summary=summary_of("general"))
        # The agent moves the request on: the requester's e-mail names the statuses.
        detail = _page(agent, f"/requests/{reference}")
        for transition_id in re.findall(rf'action="/requests/{reference}/transitions/(\d+)"', detail)[:1]:
            agent.post(portal_url(SLUG, f"/requests/{reference}/transitions/{transition_id}"), data={"body": "ok"})
        agent.post(portal_url(SLUG, f"/requests/{reference}/comments"), data={"body": "Vastaus"})
        round_pages = {
            "home (customer)": _page(customer, "/"),
            "new request form": _page(customer, "/portals/asiakastuki/palvelupyynto/new"),
            "request (customer)": _page(customer, f"/requests/{reference}"),
            "request (agent)": _page(agent, f"/requests/{reference}"),
            "list (customer)": _page(customer, "/requests"),
            "queue (agent)": _page(agent, "/agent/queues/open"),
            "console statuses": _page(admin, "/admin/config/statuses"),
            "console request types": _page(admin, "/admin/config/request-types"),
            "console form": _page(admin, "/admin/config/forms/palvelupyynto"),
            "console strings": _page(admin, "/admin/config/strings"),
            "console audit": _page(admin, "/admin/config/audit"),
            "console queues": _page(admin, "/admin/config/queues"),
            "console workflows": _page(admin, "/admin/config/workflows"),
            "console rules": _page(admin, "/admin/config/rules"),
            "console workflow": _page(admin, "/admin/config/workflows/palvelupyynto"),
        }
        round_pages.update({f"{where} (round {start})": html for where, html in pages.items()})
        assert_escaped(round_pages, sent + xss if start == 0 else sent)
    messages = delivered_emails(app)
    assert messages, "no e-mail was sent about the request"
    assert_escaped({f"e-mail {m['Subject']!r} to {m['To']}": html_of(m) for m in messages}, xss)


def test_ui_text_override_with_a_percent_sign_is_refused_or_shown(app, festum):
    """A tenant admin's wording with a "%" that is no placeholder (a percent-encoded payload, or an
    honest "100 %") must not break every page of the portal: refused when saved, or shown as typed."""
    from app.accounts.models import User
    from app.admin.services import ConsoleError, change
    from app.admin.summaries import summary_of
    from app.tenancy.scoping import tenant_scope

    tenant, ids = festum
    customer = _client(app, CUSTOMER)
    wording = "%3Cscript%3Ealert('xss')%3C/script%3E 100% valmis"
    with app.test_request_context(portal_url(SLUG)), tenant_scope(tenant.id):
        from flask import g

        from app.tenancy.resolution import get_tenant_context

        g.tenant = get_tenant_context(SLUG)
        try:
            change(
                SLUG,
                lambda d: d.update(strings={"fi": {"Log out": wording}}),
                actor=db.session.get(User, ids["admin"]),
                summary=summary_of("string_override", msgid="Log out"),
            )
            db.session.commit()  # the console's boundary (app.unit_of_work)
        except ConsoleError:
            return  # refused with a message for the admin: fine
    response = customer.get(portal_url(SLUG, "/"))
    assert response.status_code == 200
    assert "%3Cscript%3Ealert(&#39;xss&#39;)%3C/script%3E 100% valmis" in response.get_data(as_text=True)


# --- header injection ------------------------------------------------------------------------------------


def test_header_injection_never_adds_headers_to_emails(app, festum):
    from app.accounts.models import User
    from app.admin.services import change
    from app.admin.summaries import summary_of
    from app.tenancy.scoping import tenant_scope

    injections = header_payloads()
    customer, agent = _client(app, CUSTOMER), _client(app, AGENT)
    tenant, ids = festum
    # The portal's name is the From header's display name.
    with app.test_request_context(portal_url(SLUG)), tenant_scope(tenant.id):
        from flask import g

        from app.tenancy.resolution import get_tenant_context

        g.tenant = get_tenant_context(SLUG)
        try:
            change(
                SLUG,
                lambda d: d.update(name=injections[0]),
                actor=db.session.get(User, ids["admin"]),
                summary=summary_of("general"),
            )
        except Exception:  # refused by the definition's validation: fine, the default name stays
            db.session.rollback()
    sent_by_number: dict[str, str] = {}
    for payload in injections:
        # The requester's name goes into e-mails, the summary into their Subject.
        customer.post(
            portal_url(SLUG, "/profile"), data={"name": payload, "locale": "fi", "timezone": "Europe/Helsinki"}
        )
        response = customer.post(
            portal_url(SLUG, "/portals/asiakastuki/palvelupyynto/new"),
            data={"field_summary": payload, "field_description": payload, "field_severity": "normaali"},
        )
        if response.status_code == 302:
            reference = response.headers["Location"].rsplit("/", 1)[1]
            sent_by_number[reference.rsplit("-", 1)[1]] = payload
            agent.post(portal_url(SLUG, f"/requests/{reference}/comments"), data={"body": payload})
    messages = delivered_emails(app)
    assert len(messages) >= len(injections), "the e-mails about the requests were not sent"
    injected = []
    for message in messages:
        names = {name.lower() for name in message.keys()}
        if (
            names & {"bcc", "x-injected"}
            or list(message.keys()).count("To") > 1
            or (list(message.keys()).count("Subject") > 1)
        ):
            number = re.search(r"#(\d+)", str(message["Subject"]))
            payload = sent_by_number.get(number.group(1)) if number else None
            injected.append(f"to {message['To']}, summary {payload!r}: headers {sorted(names)}")
    # The portal's name is the From header's display name: every payload as the name, written by
    # the worker's own e-mail writer (an e-mail it refuses to write adds no header either).
    from types import SimpleNamespace

    from app.outbox.jobs import build_email
    from app.outbox.models import OutboxMessage
    from app.tenancy.scoping import all_tenants

    with app.app_context(), all_tenants():
        row = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        for payload in injections:
            try:
                raw = build_email(row, SimpleNamespace(id=tenant.id, name=payload, settings={})).as_bytes()
            except (ValueError, TypeError):
                continue
            written = email.message_from_bytes(raw, policy=email_policy.default)
            names = {name.lower() for name in written.keys()}
            if names & {"bcc", "x-injected"} or list(written.keys()).count("From") > 1:
                injected.append(f"portal name {payload!r}: headers {sorted(names)}")
    assert not injected, "E-mails with injected headers:\n" + "\n".join(injected)
    failed = [row for row in outbox_rows(app) if row.status != "sent"]
    assert not failed, f"E-mails that could not be sent: {[(r.id, r.status, r.last_error) for r in failed]}"


# --- path traversal --------------------------------------------------------------------------------------

SECRET = b"TOP-SECRET-MARKER-7f3a"


def test_path_traversal_never_leaves_the_tenants_storage_prefix(app, festum, make_tenant):
    from app.tenancy.scoping import all_tenants
    from app.tickets.models import Attachment

    traversals = payloads("path_traversal.txt")
    tenant, _ids = festum
    other = make_tenant("crmservice")
    root = Path(app.config["STORAGE_URL"].removeprefix("file://"))
    # Files a traversal would reach: at the storage root and in the other tenant's prefix.
    for place in (root / "secret.txt", root / str(other.id) / "secret.txt", root / str(other.id) / "1" / "secret.txt"):
        place.parent.mkdir(parents=True, exist_ok=True)
        place.write_bytes(SECRET)
    customer = _client(app, CUSTOMER)
    references = []
    for start in range(0, len(traversals), 5):
        names = traversals[start : start + 5]
        references.append(
            _raise(customer, f"Liitteet {start}", "x", files=[(name, b"uploaded " + name.encode()) for name in names])
        )
    with app.app_context(), all_tenants():
        rows = db.session.execute(
            select(Attachment.id, Attachment.ticket_id, Attachment.storage_key, Attachment.filename).where(
                Attachment.tenant_id == tenant.id
            )
        ).all()
    assert len(rows) == len(traversals)
    prefix = (root / str(tenant.id)).resolve()
    outside = [row for row in rows if prefix not in (root / row.storage_key).resolve().parents]
    assert not outside, f"stored outside the tenant's prefix: {outside}"
    bad_names = [
        row.filename for row in rows if "/" in row.filename or "\\" in row.filename or row.filename in ("", ".", "..")
    ]
    assert not bad_names, f"file names that still name a path: {bad_names}"
    # Nothing was written anywhere but under the tenant's prefix (and our planted secrets).
    written = [
        p for p in root.rglob("*") if p.is_file() and prefix not in p.resolve().parents and p.read_bytes() != SECRET
    ]
    assert not written, f"files written outside the tenant's prefix: {written}"
    # Downloads give back what was uploaded, under a name without a path.
    with app.app_context(), all_tenants():
        from app.tickets.models import Ticket

        refs = dict(db.session.execute(select(Ticket.id, Ticket.reference)).all())
    for row in rows:
        response = customer.get(portal_url(SLUG, f"/requests/{refs[row.ticket_id]}/attachments/{row.id}"))
        assert response.status_code == 200 and response.data.startswith(b"uploaded ")
        disposition = response.headers.get("Content-Disposition", "")
        assert "\r" not in disposition and "\n" not in disposition
    # Download URLs with traversal in their path parts: never a planted secret, never a 5xx.
    reference = references[0]
    leaks = []
    for payload in traversals:
        for path in (
            f"/static/{payload}",
            f"/branding/logo/{payload}",
            f"/requests/{reference}/attachments/{payload}",
            f"/help/articles/{payload}",
            f"/requests/{payload}",
            f"/people/{payload}/avatar",
        ):
            for client_host in (portal_url(SLUG, path), f"http://portal.test{path}"):
                response = customer.get(client_host)
                if SECRET in response.data or response.status_code >= 500 or b"root:x:0:0" in response.data:
                    leaks.append(f"{client_host} → {response.status_code}")
    assert not leaks, "Traversal through download URLs:\n" + "\n".join(leaks)
