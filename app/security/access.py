"""Who may reach which route: the audience vocabulary and the outcome each kind of visitor must get.

Every module that has routes declares, in its ``policy.py``, ``ROUTE_ACCESS: dict[str, str]``: the
endpoint name → the key of one audience below. The route × actor matrix
(``tests/security/test_route_matrix.py``) requests every URL rule of the app as each of the eight
actors, with objects of this tenant and of another one, and compares the answer with
``expected(...)``; a rule whose endpoint declares no audience fails that test, so a new route cannot
be forgotten. The expectations are the secure ones, whatever the code does today.

The actors (on the portal of tenant A unless said otherwise):

- ``anonymous``: nobody signed in;
- ``customer``: the requester of A's request (a member of organization O);
- ``other_customer``: a customer of A with no relation to that request, organization or article;
- ``org_admin``: an organization admin of O (sees the requests of O's members);
- ``agent`` and ``tenant_admin``: staff of A;
- ``other_tenant_admin``: tenant admin of tenant B whose session cookie is replayed on A's host;
- ``operator``: the platform operator, whose session cookie is replayed on A's host.

A signed-in user of one host counts as nobody on every other host (sessions are host-only and
checked against the tenant), so the last two must get what ``anonymous`` gets on a tenant host,
and on the bare domain every tenant user must get what ``anonymous`` gets there.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

ANONYMOUS = "anonymous"
CUSTOMER = "customer"
OTHER_CUSTOMER = "other_customer"
ORG_ADMIN = "org_admin"
AGENT = "agent"
TENANT_ADMIN = "tenant_admin"
OTHER_TENANT_ADMIN = "other_tenant_admin"
OPERATOR = "operator"
ACTORS = (ANONYMOUS, CUSTOMER, OTHER_CUSTOMER, ORG_ADMIN, AGENT, TENANT_ADMIN, OTHER_TENANT_ADMIN, OPERATOR)

TENANT_USERS = frozenset({CUSTOMER, OTHER_CUSTOMER, ORG_ADMIN, AGENT, TENANT_ADMIN})
STAFF_ACTORS = frozenset({AGENT, TENANT_ADMIN})
EVERYONE = frozenset(ACTORS)

# What a response means, as ``classify`` reads it.
OK = "ok"  # 2xx, 3xx other than to a login page, 422 (the view answered our deliberately empty form)
BAD_REQUEST = "bad_request"  # 400: the view was reached and refused the input (or a signed link)
LOGIN = "login"  # a redirect to the login page
UNAUTHORIZED = "unauthorized"  # 401 (the mail gate without its token)
FORBIDDEN = "forbidden"  # 403
NOT_FOUND = "not_found"  # 404 ("not yours" and "does not exist" are the same answer)
ERROR = "error"  # 5xx, 405 or anything else: never expected

TENANT_HOST = "tenant"
PLATFORM_HOST = "platform"


@dataclass(frozen=True)
class Audience:
    """Who may use a route: ``readers`` for GET, ``writers`` for POST (the same unless split).

    ``signed``: the URL carries a signed token that is the credential (valid for this tenant:
    anyone; another tenant's or forged: refused). ``bearer``: a machine's token in a header, never
    a browser session (every one of the eight actors is refused with 401)."""

    key: str
    description: str
    readers: frozenset[str]
    writers: frozenset[str] | None = None
    host: str = TENANT_HOST
    signed: bool = False
    bearer: bool = False

    def allows(self, actor: str, method: str) -> bool:
        group = self.readers if method in ("GET", "HEAD", "OPTIONS") or self.writers is None else self.writers
        return actor in group


_REQUEST_PEOPLE = frozenset({CUSTOMER, ORG_ADMIN, AGENT, TENANT_ADMIN})

AUDIENCES: dict[str, Audience] = {
    a.key: a
    for a in (
        Audience("PUBLIC", "Anyone on the tenant's portal, signed in or not.", EVERYONE),
        Audience(
            "PLATFORM_PUBLIC", "Anyone on the bare domain (the platform's own pages).", EVERYONE, host=PLATFORM_HOST
        ),
        Audience("STATIC", "Static files: anyone, on any host.", EVERYONE),
        Audience("PLATFORM_STATIC", "Static files on the bare domain: anyone.", EVERYONE, host=PLATFORM_HOST),
        Audience(
            "SIGNED",
            "Anyone holding a valid link signed for this tenant (e-mailed links); another "
            "tenant's or a forged token is refused.",
            EVERYONE,
            signed=True,
        ),
        Audience("USER", "Any signed-in user of the tenant (acts on themselves only).", TENANT_USERS),
        Audience(
            "OWN",
            "The person themselves (their profile, their picture) and the tenant's staff.",
            frozenset({CUSTOMER, AGENT, TENANT_ADMIN}),
        ),
        Audience("STAFF", "Agents and tenant admins of the tenant.", STAFF_ACTORS),
        Audience(
            "STAFF_READ_ADMIN_WRITE",
            "Agents and tenant admins read; only tenant admins change (roles, e-mail addresses, organizations).",
            STAFF_ACTORS,
            writers=frozenset({TENANT_ADMIN}),
        ),
        Audience("TENANT_ADMIN", "Tenant admins of the tenant.", frozenset({TENANT_ADMIN})),
        Audience("OPERATOR", "The platform operator, on the bare domain.", frozenset({OPERATOR}), host=PLATFORM_HOST),
        Audience(
            "MAILGATE",
            "A mail server with the mail gate's bearer token; no browser session.",
            frozenset(),
            host=PLATFORM_HOST,
            bearer=True,
        ),
        Audience(
            "REQUEST_VIEWER",
            "Whoever may see that request: its requester, people and organization "
            "members it is shared with, organization admins of the requester's organizations, staff.",
            _REQUEST_PEOPLE,
        ),
        Audience(
            "REQUEST_SHARER",
            "Whoever may share that request or change its sharing: the requester, "
            "organization admins, staff (not people it is merely shared with).",
            _REQUEST_PEOPLE,
        ),
        Audience(
            "REQUEST_EDITOR",
            "Whoever may change that request's details or move it on (close, reopen, "
            "approve): the requester, organization admins, staff.",
            _REQUEST_PEOPLE,
        ),
        Audience(
            "REQUEST_STAFF",
            "Staff acting on a request of their tenant (assign, link, forward, original e-mails).",
            STAFF_ACTORS,
        ),
        Audience(
            "ARTICLE_READER",
            "Whoever may read that help article (the matrix uses one shared with the "
            "requester's organization: its members and staff).",
            _REQUEST_PEOPLE,
        ),
    )
}


def effective_actor(actor: str, host: str) -> str:
    """Who the actor is on this kind of host: a session belongs to the host it was opened on."""
    if host == PLATFORM_HOST:
        return actor if actor == OPERATOR else ANONYMOUS
    return ANONYMOUS if actor in (OTHER_TENANT_ADMIN, OPERATOR) else actor


def expected(audience_key: str, actor: str, method: str, *, foreign: bool = False) -> frozenset[str]:
    """The outcomes (see ``classify``) that are acceptable for ``actor`` calling a route of this
    audience with ``method``; ``foreign``: the URL names an object (or a token) of another tenant."""
    audience = AUDIENCES[audience_key]
    if audience.bearer:
        return frozenset({UNAUTHORIZED})
    who = effective_actor(actor, audience.host)
    if audience.signed:
        # A good link may end on the login page (an address confirmed: "now log in").
        return frozenset({BAD_REQUEST, NOT_FOUND}) if foreign else frozenset({OK, LOGIN})
    if audience.allows(who, method):
        return frozenset({NOT_FOUND}) if foreign else frozenset({OK, BAD_REQUEST})
    if who == ANONYMOUS:
        return frozenset({LOGIN, FORBIDDEN, NOT_FOUND})
    return frozenset({FORBIDDEN, NOT_FOUND})


def classify(status: int, location: str | None = None) -> str:
    """What an answer means for access: reached the view, turned away, or broken."""
    if status in (301, 302, 303, 307, 308):
        path = (location or "").split("?", 1)[0].rstrip("/")
        return LOGIN if path.endswith("/login") else OK
    if 200 <= status < 300 or status == 422:
        return OK
    return {400: BAD_REQUEST, 401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND}.get(status, ERROR)


def declared_routes() -> dict[str, str]:
    """Every ``ROUTE_ACCESS`` of ``app/<module>/policy.py``, merged (an endpoint declared twice is
    an error: one module owns each route).

    The modules are found on disk beside this package, not by importing ``app``: that would make
    this platform module depend on the application factory and, through it, on every layer above.
    """
    merged: dict[str, str] = {}
    for module in pkgutil.iter_modules([str(Path(__file__).resolve().parent.parent)]):
        if not module.ispkg:
            continue
        try:
            policy = importlib.import_module(f"app.{module.name}.policy")
        except ModuleNotFoundError as error:
            if error.name != f"app.{module.name}.policy":
                raise
            continue
        for endpoint, audience in getattr(policy, "ROUTE_ACCESS", {}).items():
            if endpoint in merged:
                raise ValueError(f"{endpoint} is declared in more than one policy.py")
            merged[endpoint] = audience
    return merged
