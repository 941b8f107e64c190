"""Shared fixtures for the security tests: two tenants with one of every kind of person and object.

``security_world`` builds, through the services the app uses, tenant A (Festum) and tenant B
(CRM-service), each with a request (with an attachment, a comment and the e-mails they came
from), an organization, a help article with a file, a mailbox, signed links, and the people of the
route matrix (``app.security.access.ACTORS``). ``world.values(foreign=...)`` gives the URL values
of this tenant's objects or of the other tenant's; ``world.fresh_request()`` raises another request
like the first (for a test that changes requests as it goes).
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from app.extensions import db
from tests.conftest import portal_url

PASSWORD = "correct-horse-battery"
OPERATOR_EMAIL = "operator@portal.test"
OPERATOR_PASSWORD = "operator-password"
MAILGATE_TOKEN = "mailgate-secret-for-tests"
THIS, OTHER = "festum", "crmservice"

# The people of tenant A (and B's admin), by actor (app.security.access.ACTORS).
EMAILS = {
    "customer": "asiakas@yritys.fi",
    "other_customer": "toinen@muu.fi",
    "org_admin": "paakayttaja@yritys.fi",
    "agent": "agentti@festum.test",
    "tenant_admin": "admin@festum.test",
    "other_tenant_admin": "admin@crmservice.test",
}


def png_bytes(size: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=content_type)


@dataclass
class TenantObjects:
    """One tenant's objects, as URL values (ids, references, keys, signed tokens)."""

    slug: str
    tenant_id: int
    user_ids: dict = field(default_factory=dict)  # actor or role → id
    values: dict = field(default_factory=dict)


@dataclass
class SecurityWorld:
    app: object
    this: TenantObjects
    other: TenantObjects
    _make_request: object = None

    def values(self, *, foreign: bool = False) -> dict:
        return dict((self.other if foreign else self.this).values)

    def token(self, endpoint: str, *, foreign: bool = False) -> str | None:
        """A signed token for the link ``endpoint`` (None if no maker is known for it)."""
        maker = (self.other if foreign else self.this).values["tokens"].get(endpoint)
        if maker is None:
            return None
        with self.app.app_context():
            return maker()

    def fresh_request(self) -> dict:
        """Another request of tenant A like the first one: its reference, attachment and comment ids."""
        return self._make_request()


def _in_tenant(app, slug: str):
    """A request context on the tenant's host with the tenant current (for services that read g.tenant)."""
    from contextlib import ExitStack

    from flask import g

    from app.tenancy.resolution import get_tenant_context
    from app.tenancy.scoping import tenant_scope

    # Closed again if the tenant cannot be entered: a request context left pushed would become the
    # current app of every later test in this worker (the CLI runner uses it, for one).
    with ExitStack() as stack:
        stack.enter_context(app.test_request_context(portal_url(slug)))
        g.tenant = get_tenant_context(slug)
        stack.enter_context(tenant_scope(g.tenant.id))
        return stack.pop_all()


def _raise_request(app, slug: str, requester_id: int, *, summary: str = "Lasku ei tulostu") -> dict:
    from flask import g

    from app.accounts.models import User
    from app.catalog.models import RequestType
    from app.mailin.models import COMMENT, CREATED, HELD, HOLD_NOT_PARTICIPANT, InboundMessage
    from app.storage import get_storage, make_key
    from app.tickets.models import Attachment, Comment
    from app.tickets.conversation import add_comment
    from app.tickets.services import raise_request

    with _in_tenant(app, slug):
        requester = db.session.get(User, requester_id)
        request_type = db.session.scalars(select(RequestType).order_by(RequestType.id)).first()
        ticket = raise_request(
            tenant=g.tenant,
            request_type_id=request_type.id,
            requester=requester,
            created_by=requester,
            values={"summary": summary, "description": "Kuvaus", "severity": "normaali"},
            uploads=[upload("lasku.pdf", b"%PDF-1.4 test", "application/pdf")],
        )
        add_comment(ticket, requester, "Lisätietoa", uploads=[upload("liite.txt", b"hello", "text/plain")])
        attachment_id = db.session.scalars(
            select(Attachment.id).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
        ).first()
        comment_id = db.session.scalars(select(Comment.id).where(Comment.ticket_id == ticket.id)).first()
        # The e-mails the request and the comment came from (the agents' "original e-mail" downloads).
        storage = get_storage()
        held = None
        for outcome, comment in ((CREATED, None), (COMMENT, comment_id), (HELD, None)):
            key = make_key(g.tenant.id, "mail", f"{ticket.id}-{outcome}")
            storage.put(key, io.BytesIO(b"From: a@b.test\r\nSubject: x\r\n\r\nbody\r\n"), "message/rfc822")
            inbound = InboundMessage(
                message_id=f"<{ticket.id}-{outcome}@test>",
                sender=requester.email,
                subject=summary,
                raw_key=key,
                outcome=outcome,
                ticket_id=ticket.id,
                comment_id=comment,
                hold_reason=HOLD_NOT_PARTICIPANT if outcome == HELD else None,
            )
            db.session.add(inbound)
            held = inbound
        db.session.flush()
        transition_id = _a_transition(ticket)
        db.session.commit()
        return {
            "reference": ticket.reference,
            "attachment_id": attachment_id,
            "comment_id": comment_id,
            "ticket_id": ticket.id,
            "transition_id": transition_id,
            "inbound_id": held.id,
        }


_counter = itertools.count(1)


def _user(user_id: int):
    """A user as the database has them now (tokens are minted inside an app context)."""
    from app.accounts.models import User
    from app.tenancy.scoping import all_tenants

    with all_tenants():
        user = db.session.get(User, user_id)
        db.session.refresh(user)
        return user


def _a_transition(ticket) -> int:
    from app.workflow.models import Transition

    return db.session.scalars(
        select(Transition.id).where(Transition.workflow_id == ticket.request_type.workflow_id).order_by(Transition.id)
    ).first()


def _build_tenant(app, make_tenant, make_user, slug: str, people: dict[str, tuple[str, str]]) -> TenantObjects:
    """people: actor → (e-mail, role). Adds an organization (requester member, org admin admin),
    a request, an article shared with the organization, a mailbox, a logo, an avatar, tokens."""
    from flask import g

    from app.accounts import tokens
    from app.accounts.models import User
    from app.accounts.organizations import add_membership, get_or_create_organization
    from app.accounts.profiles import set_avatar
    from app.helpcenter.services import ArticleData, add_files, create_article
    from app.mailin.mailboxes import set_mailbox
    from app.outbox import links
    from app.tenancy.services import set_logo

    tenant = make_tenant(slug)
    objects = TenantObjects(slug=slug, tenant_id=tenant.id)
    for actor, (email, role) in people.items():
        objects.user_ids[actor] = make_user(tenant, email, role=role, name=actor.replace("_", " ").title())
    objects.user_ids["target"] = make_user(tenant, f"target@{slug}.test", name="Target")
    objects.user_ids["invited"] = make_user(tenant, f"invited@{slug}.test", password=None, verified=False)
    objects.user_ids["unverified"] = make_user(tenant, f"unverified@{slug}.test", verified=False)
    objects.user_ids["mover"] = make_user(tenant, f"mover@{slug}.test", name="Mover")
    requester_id = objects.user_ids["customer"]
    with _in_tenant(app, slug):
        org = get_or_create_organization(f"Yritys {slug}")
        add_membership(db.session.get(User, requester_id), org)
        if "org_admin" in objects.user_ids:
            add_membership(db.session.get(User, objects.user_ids["org_admin"]), org, is_admin=True)
        db.session.commit()
        org_id = org.id
        set_avatar(db.session.get(User, requester_id), upload("me.png", png_bytes(), "image/png"))
        set_logo(tenant.id, upload("logo.png", png_bytes(32), "image/png"))
        mailbox = set_mailbox(host="imap.example.test", username=f"support@{slug}.test", password="x")
        mailbox_id = mailbox.id
        db.session.commit()
    request = _raise_request(app, slug, requester_id)
    with _in_tenant(app, slug):
        staff = db.session.get(User, objects.user_ids.get("agent") or objects.user_ids["other_tenant_admin"])
        article = create_article(
            g.tenant,
            staff,
            ArticleData(
                title=f"Ohje {slug}",
                body="Näin se toimii.",
                language=g.tenant.default_locale,
                visibility="organizations",
                organization_ids=[org_id],
            ),
            publish=True,
        )
        files = add_files(article, [upload("ohje.pdf", b"%PDF-1.4 ohje", "application/pdf")], staff)
        db.session.commit()
        article_values = {"article_id": article.id, "article_slug": article.slug, "file_id": files[0].id}
        requester = db.session.get(User, requester_id)
        invited_id, unverified_id = objects.user_ids["invited"], objects.user_ids["unverified"]
        mover_id = objects.user_ids["mover"]
        tenant_row = db.session.get(type(tenant), tenant.id)
        logo_version = tenant_row.logo_key.rsplit("/", 1)[1]

        requester_email = requester.email

        def link(purpose):
            return links.make_link_token(
                purpose,
                tenant_id=tenant.id,
                ticket_id=request["ticket_id"],
                user_id=requester_id,
                address=requester_email,
            )

        objects.values = {
            **request,
            **article_values,
            "user_id": objects.user_ids["target"],
            "org_id": org_id,
            "mailbox_id": mailbox_id,
            "number": 1,
            "version": logo_version,
            "avatar_user_id": requester_id,
            "participant_id": objects.user_ids["target"],
            # Signed links, minted when asked (from the person as they are then: a used link of a
            # kind that works once is not reused), by endpoint.
            "tokens": {
                "accounts.verify_email": lambda: tokens.make_token(tokens.VERIFY_EMAIL, _user(unverified_id)),
                "accounts.reset_password": lambda: tokens.make_token(tokens.RESET_PASSWORD, _user(requester_id)),
                "accounts.set_password": lambda: tokens.make_token(tokens.SET_PASSWORD, _user(invited_id)),
                "accounts.confirm_email_change": lambda: tokens.make_token(
                    tokens.CHANGE_EMAIL, _user(mover_id), n=f"moved-{next(_counter)}@{slug}.test"
                ),
                "notifications.view": lambda: link(links.VIEW),
                "notifications.unsubscribe": lambda: link(links.UNSUBSCRIBE),
                "notifications.resubscribe": lambda: link(links.UNSUBSCRIBE),
                "notifications.rate": lambda: link(links.RATE),
            },
        }
    return objects


@pytest.fixture
def security_world(app, make_tenant, make_user) -> SecurityWorld:
    from app.accounts.models import Operator
    from app.accounts.hashing import hash_password

    this = _build_tenant(
        app,
        make_tenant,
        make_user,
        THIS,
        {
            actor: (EMAILS[actor], {"agent": "agent", "tenant_admin": "admin"}.get(actor, "customer"))
            for actor in ("customer", "other_customer", "org_admin", "agent", "tenant_admin")
        },
    )
    other = _build_tenant(
        app,
        make_tenant,
        make_user,
        OTHER,
        {"customer": ("asiakas@toinen.fi", "customer"), "other_tenant_admin": (EMAILS["other_tenant_admin"], "admin")},
    )
    with app.app_context():
        db.session.add(Operator(email=OPERATOR_EMAIL, password_hash=hash_password(OPERATOR_PASSWORD)))
        db.session.commit()
    return SecurityWorld(
        app=app, this=this, other=other, _make_request=lambda: _raise_request(app, THIS, this.user_ids["customer"])
    )


def signed_in_client(app, actor: str):
    """A test client signed in as ``actor`` (``app.security.access.ACTORS``), whose session cookie is
    also sent to every other host (another tenant's portal, the bare domain): the strongest version
    of "a session used where it does not belong"."""
    from tests.conftest import TEST_DOMAIN

    client = app.test_client()
    if actor == "anonymous":
        return client
    if actor == "operator":
        response = client.post(
            f"http://{TEST_DOMAIN}/login", data={"email": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD}
        )
        host = TEST_DOMAIN
    else:
        slug = OTHER if actor == "other_tenant_admin" else THIS
        response = client.post(portal_url(slug, "/login"), data={"email": EMAILS[actor], "password": PASSWORD})
        host = f"{slug}.{TEST_DOMAIN}"
    assert response.status_code == 302, f"{actor} could not sign in ({response.status_code})"
    names = (app.config["SESSION_COOKIE_NAME"], app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    cookies = [cookie for name in names if (cookie := client.get_cookie(name, domain=host)) is not None]
    assert cookies, f"{actor} has no session cookie"
    for cookie in cookies:
        for other_host in (TEST_DOMAIN, f"{THIS}.{TEST_DOMAIN}", f"{OTHER}.{TEST_DOMAIN}"):
            if other_host != host:
                client.set_cookie(cookie.key, cookie.value, domain=other_host)
                assert client.get_cookie(cookie.key, domain=other_host).value == cookie.value
    return client


def tenant_snapshot(app, tenant_id: int) -> dict:
    """What a tenant's data looks like (requests, people, organizations, articles, mailboxes, its
    configuration version): equal before and after means nobody changed it."""
    from app.accounts.models import Membership, Organization, User
    from app.helpcenter.models import Article
    from app.mailin.models import InboundMessage, Mailbox
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import all_tenants
    from app.tickets.models import Attachment, Comment, Participant, Ticket, TicketOrganization, Watcher

    def rows(*columns, where):
        return sorted(tuple(row) for row in db.session.execute(select(*columns).where(where)).all())

    with app.app_context(), all_tenants():
        return {
            "tickets": rows(
                Ticket.id,
                Ticket.status_id,
                Ticket.assignee_id,
                Ticket.summary,
                Ticket.request_type_id,
                where=Ticket.tenant_id == tenant_id,
            ),
            "comments": rows(
                Comment.id,
                Comment.body,
                Comment.is_internal,
                where=Comment.ticket_id.in_(select(Ticket.id).where(Ticket.tenant_id == tenant_id)),
            ),
            "attachments": rows(Attachment.id, Attachment.filename, where=Attachment.tenant_id == tenant_id),
            "participants": rows(
                Participant.ticket_id,
                Participant.user_id,
                where=Participant.ticket_id.in_(select(Ticket.id).where(Ticket.tenant_id == tenant_id)),
            ),
            "watchers": rows(
                Watcher.ticket_id,
                Watcher.user_id,
                where=Watcher.ticket_id.in_(select(Ticket.id).where(Ticket.tenant_id == tenant_id)),
            ),
            "shared": rows(
                TicketOrganization.ticket_id,
                TicketOrganization.organization_id,
                where=TicketOrganization.organization_id.in_(
                    select(Organization.id).where(Organization.tenant_id == tenant_id)
                ),
            ),
            "users": rows(User.id, User.email, User.role, User.active, User.name, where=User.tenant_id == tenant_id),
            "organizations": rows(Organization.id, Organization.name, where=Organization.tenant_id == tenant_id),
            "memberships": rows(
                Membership.user_id,
                Membership.organization_id,
                Membership.is_admin,
                where=Membership.organization_id.in_(
                    select(Organization.id).where(Organization.tenant_id == tenant_id)
                ),
            ),
            "articles": rows(Article.id, Article.status, Article.title, where=Article.tenant_id == tenant_id),
            "mailboxes": rows(Mailbox.id, Mailbox.enabled, where=Mailbox.tenant_id == tenant_id),
            "inbound": rows(
                InboundMessage.id,
                InboundMessage.outcome,
                InboundMessage.hold_reason,
                where=InboundMessage.tenant_id == tenant_id,
            ),
            "tenant": rows(Tenant.status, Tenant.config_version, Tenant.logo_key, where=Tenant.id == tenant_id),
        }
