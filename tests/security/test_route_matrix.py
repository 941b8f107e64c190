"""Every route × method × actor, with objects of this tenant and of another, against the declared audience.

The declarations are ``ROUTE_ACCESS`` in each module's ``policy.py``; the audiences and what each
actor must get are in ``app/security/access.py``. A new route without a declaration fails
``test_every_route_declares_its_audience``, so nobody has to remember to add it here.

The matrix runs on PostgreSQL only: who may reach a route is decided in Python and in the same SQL
on both engines (the queries are the ones every other test runs on SQLite too), and one engine keeps
this file fast. It is one test that requests everything and reports every mismatch at once.

How an answer is read (``access.classify``): reached the view = 2xx, 3xx other than to the login
page, 422 or 400 (the matrix sends empty or harmless forms, the view may refuse them: that is
still access); turned away = 403/404, or a redirect to the login page for someone not signed in.
"""

from __future__ import annotations

import pytest

from app.security import access
from tests.conftest import TEST_DOMAIN
from tests.security.conftest import MAILGATE_TOKEN, OTHER, THIS, signed_in_client, tenant_snapshot

# Actors in the order they run: those who cannot change anything first, tenant admins last (their
# deletions in the console must not take objects away from anyone else's requests).
ACTOR_ORDER = (
    access.ANONYMOUS,
    access.OTHER_TENANT_ADMIN,
    access.OPERATOR,
    access.OTHER_CUSTOMER,
    access.CUSTOMER,
    access.ORG_ADMIN,
    access.AGENT,
    access.TENANT_ADMIN,
)

# URL values naming an object of a tenant: replaced by the other tenant's to check isolation.
OBJECT_PARAMS = {
    "reference",
    "attachment_id",
    "comment_id",
    "user_id",
    "org_id",
    "article_id",
    "file_id",
    "mailbox_id",
    "token",
    "transition_id",
    "slug",
    "inbound_id",
}
# Objects looked up within another object: the other tenant's alone (with this tenant's parent) must
# be "not found" too. (A participant or transition that is not the request's is an error message.)
SUB_OBJECTS = {"attachment_id", "comment_id", "file_id", "user_id", "org_id", "inbound_id"}
NOT_SUB_OBJECT = {("tickets.remove_participant", "user_id")}

# Configuration keys of tenant A (Festum's definition); looked up by key within the tenant.
CONFIG_KEYS = {
    "portal_key": "asiakastuki",
    "type_key": "palvelupyynto",
    "form_key": "palvelupyynto",
    "field_key": "cc",
    "status_key": "odottaa",
    "workflow_key": "palvelupyynto",
    "transition_key": "kasittelyyn",
    "queue_key": "kofax",
    "rule_key": "valmis-avataan-viestilla",
    "key": "kofax",
    "filename": "css/portal.css",
}

# Harmless forms for the POSTs whose empty form would do something drastic or say nothing about
# access (an agent's e-mail change must be refused, not merely fail validation).
POST_DATA = {
    "admin.user_detail": lambda v: {"name": "Target", "email": "target-changed@festum.test", "role": "customer"},
    "admin.set_active": lambda v: {"active": "1"},
    "admin.organizations": lambda v: {"name": "Uusi organisaatio"},
    "admin.organization_detail": lambda v: {"email": "target@festum.test"},
    "admin.update_member": lambda v: {"action": "make_member"},
    "helpcenter.set_status": lambda v: {"publish": "1"},
    "notifications.rate": lambda v: {"score": "5"},
    "operator.tenant_status": lambda v: {"status": "active"},
    "tickets.watch": lambda v: {"watch": "1"},
    "mailin.accept_held": lambda v: {"as": "internal"},
    "portal.set_language": lambda v: {"language": "fi"},
}
# Requests that change what later requests see run last, in this order.
LATE = (
    "tickets.transition",
    "admin.config.field_delete",
    "admin.config.transition_delete",
    "admin.config.rule_delete",
    "admin.config.queue_delete",
    "admin.config.remove_mailbox",
    "admin.config.request_type_delete",
    "admin.config.workflow_delete",
    "admin.config.status_delete",
    "accounts.logout",
    "operator.logout",
)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAILGATE_TOKEN": MAILGATE_TOKEN}


class MissingValue(LookupError):
    """The matrix does not know how to name an object for this URL parameter (a new kind of route)."""


def _value(endpoint: str, name: str, values: dict, slug: str):
    if name == "token":
        token = values["token_for"](endpoint)
        if token is None:
            raise MissingValue(
                f"no signed token is known for {endpoint}: add a maker to 'tokens' in tests/security/conftest.py"
            )
        return token
    if name == "slug":
        return values["article_slug"] if endpoint.startswith("helpcenter.") else slug
    if name == "user_id":
        return values["avatar_user_id"] if endpoint == "accounts.avatar" else values["user_id"]
    if name in CONFIG_KEYS:
        return CONFIG_KEYS[name]
    if name not in values:
        raise MissingValue(
            f"no value is known for <{name}> of {endpoint}: add one to tests/security/conftest.py "
            "(security_world) or CONFIG_KEYS"
        )
    return values[name]


def _url(rule, values: dict) -> str:
    built = rule.build({**values, "tenant": THIS} if "tenant" in rule.arguments else values, append_unknown=False)
    domain, path = built
    host = f"{domain}.{TEST_DOMAIN}" if domain else TEST_DOMAIN
    return f"http://{host}{path}"


def _variants(rule, own: dict, foreign: dict):
    """(label, foreign?, URL values) for one rule: this tenant's objects, then the other tenant's."""
    endpoint = rule.endpoint
    names = [n for n in rule.arguments if n != "tenant"]
    objects = [n for n in names if n in OBJECT_PARAMS and not (n == "slug" and not endpoint.startswith("helpcenter."))]
    mine = {n: _value(endpoint, n, own, THIS) for n in names}
    yield "own", False, mine
    if not objects:
        return
    yield "other tenant's", True, {**mine, **{n: _value(endpoint, n, foreign, OTHER) for n in objects}}
    if len(objects) > 1:
        for name in objects:
            if name in SUB_OBJECTS and (endpoint, name) not in NOT_SUB_OBJECT:
                yield f"other tenant's {name}", True, {**mine, name: _value(endpoint, name, foreign, OTHER)}


def _tries_foreign(audience_key: str, actor: str, method: str) -> bool:
    """Whether to also try the other tenant's objects: for those the route lets in (someone turned
    away with this tenant's objects is turned away with any), never for the replayed sessions (they
    count as nobody, which ``anonymous`` covers), and for signed links with and without a session."""
    audience = access.AUDIENCES[audience_key]
    if actor in (access.OTHER_TENANT_ADMIN, access.OPERATOR):
        return False
    if audience.signed:
        return actor in (access.ANONYMOUS, access.CUSTOMER)
    return audience.allows(actor, method)


def _order(item) -> tuple:
    rule, method = item
    return (
        rule.endpoint in LATE,
        LATE.index(rule.endpoint) if rule.endpoint in LATE else 0,
        method != "GET",
        rule.endpoint,
        rule.rule,
    )


def test_every_route_declares_its_audience(app):
    declared = access.declared_routes()
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(declared))
    assert not missing, (
        "These routes declare no audience; add each to ROUTE_ACCESS in its module's "
        "policy.py (audiences: app/security/access.py):\n  " + "\n  ".join(missing)
    )
    stale = sorted(set(declared) - endpoints)
    assert not stale, "ROUTE_ACCESS names endpoints that do not exist: " + ", ".join(stale)
    unknown = sorted(f"{e}: {a}" for e, a in declared.items() if a not in access.AUDIENCES)
    assert not unknown, "Unknown audiences: " + ", ".join(unknown)


def test_audience_expectations_are_the_secure_ones():
    """A few fixed points of the vocabulary, so that a change to it is a deliberate one."""
    e = access.expected
    assert e("TENANT_ADMIN", access.AGENT, "GET") == {access.FORBIDDEN, access.NOT_FOUND}
    assert e("TENANT_ADMIN", access.OTHER_TENANT_ADMIN, "GET") == {access.LOGIN, access.FORBIDDEN, access.NOT_FOUND}
    assert e("STAFF_READ_ADMIN_WRITE", access.AGENT, "GET") == {access.OK, access.BAD_REQUEST}
    assert e("STAFF_READ_ADMIN_WRITE", access.AGENT, "POST") == {access.FORBIDDEN, access.NOT_FOUND}
    assert e("REQUEST_VIEWER", access.OTHER_CUSTOMER, "GET") == {access.FORBIDDEN, access.NOT_FOUND}
    assert e("REQUEST_VIEWER", access.TENANT_ADMIN, "GET", foreign=True) == {access.NOT_FOUND}
    assert e("OPERATOR", access.TENANT_ADMIN, "POST") == {access.LOGIN, access.FORBIDDEN, access.NOT_FOUND}
    assert e("MAILGATE", access.OPERATOR, "POST") == {access.UNAUTHORIZED}
    assert e("SIGNED", access.ANONYMOUS, "GET", foreign=True) == {access.BAD_REQUEST, access.NOT_FOUND}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_route_matrix(app, security_world):
    declared = access.declared_routes()
    rules = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if rule.endpoint in declared
    ]
    rules.sort(key=_order)
    foreign = {
        **security_world.values(foreign=True),
        "token_for": lambda endpoint: security_world.token(endpoint, foreign=True),
    }
    mismatches: list[str] = []
    checked = 0
    other_before = tenant_snapshot(app, security_world.other.tenant_id)
    for actor in ACTOR_ORDER:
        client = signed_in_client(app, actor)
        own = {
            **security_world.values(),
            **security_world.fresh_request(),
            "token_for": lambda endpoint: security_world.token(endpoint),
        }
        for rule, method in rules:
            audience = declared[rule.endpoint]
            try:
                variants = list(_variants(rule, own, foreign))
            except MissingValue as error:
                if actor == ACTOR_ORDER[0]:
                    mismatches.append(f"{method} {rule.rule}: {error}")
                continue
            if not _tries_foreign(audience, actor, method):
                variants = variants[:1]
            for label, is_foreign, values in variants:
                url = _url(rule, values)
                data = POST_DATA.get(rule.endpoint, lambda v: {})(values) if method == "POST" else None
                response = client.open(url, method=method, data=data)
                outcome = access.classify(response.status_code, response.headers.get("Location"))
                response.close()
                wanted = access.expected(audience, actor, method, foreign=is_foreign)
                checked += 1
                if outcome not in wanted:
                    mismatches.append(
                        f"{method} {rule.rule} [{rule.endpoint}, {audience}, {label} objects] as "
                        f"{actor}: got {response.status_code} ({outcome}), expected "
                        f"{' or '.join(sorted(wanted))}"
                    )
    # The mail gate's own credential is its bearer token (every actor above was refused with 401).
    response = app.test_client().post(
        f"http://{TEST_DOMAIN}/mailgate/{THIS}", data=b"", headers={"Authorization": f"Bearer {MAILGATE_TOKEN}"}
    )
    if response.status_code not in (200, 400):
        mismatches.append(f"POST /mailgate/{THIS} with the bearer token: got {response.status_code}")
    # Nothing of the other tenant changed, whatever was sent to this tenant's host with its objects.
    other_after = tenant_snapshot(app, security_world.other.tenant_id)
    mismatches += [
        f"tenant {OTHER}'s {part} changed: {other_before[part]} -> {other_after[part]}"
        for part in other_before
        if other_before[part] != other_after[part]
    ]
    assert not mismatches, (
        f"{len(mismatches)} of {checked} requests answered unlike their declared audience:\n" + "\n".join(mismatches)
    )
