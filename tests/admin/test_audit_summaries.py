"""The Audit page's "Change" column in the reader's language: what a Czech admin changed reads in
Hungarian for a Hungarian colleague; summaries stored as text by older versions still show."""

import re

from markupsafe import escape
from sqlalchemy import select

from app.admin.models import ConfigChange
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from tests.conftest import portal_url, translated

CZECH, HUNGARIAN = "spravce@bistro.cz", "admin@bistro.hu"


def config(path):
    return portal_url("bistro", "/admin/config" + path)


def _bistro(app, make_user, languages=("cs", "hu")):
    """A tenant onboarded by the operator, with a Czech and a Hungarian admin."""
    from app.operator.services import onboard_tenant

    with app.app_context():
        bistro = onboard_tenant(slug="bistro", name="Bistro", languages=list(languages), default_language=languages[0])
        db.session.commit()  # the operator console's boundary (app.unit_of_work)
        db.session.refresh(bistro)
    make_user(bistro, CZECH, role="admin", locale="cs")
    make_user(bistro, HUNGARIAN, role="admin", locale="hu")
    return bistro


def _summaries(client, login, email) -> list[str]:
    """The "Change" cells of the Audit page (newest first), as the admin reads them."""
    login("bistro", email)
    page = client.get(config("/audit")).get_data(as_text=True)
    client.post(portal_url("bistro", "/logout"))
    return re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", page)


def test_a_czech_admins_changes_read_in_hungarian_for_a_hungarian_admin(app, client, make_user, login):
    bistro = _bistro(app, make_user)
    login("bistro", CZECH)
    saved = client.post(
        config("/statuses/new"),
        data={
            "key": "paused",
            "name.cs": "Pozastaveno",
            "name.hu": "Szünetel",
            "category": "waiting",
            "color": "#555555",
        },
        follow_redirects=True,
    )
    # The admin who saved reads the confirmation in their own language.
    assert str(
        escape(
            translated(
                app, "cs", "Saved: %(summary)s.", summary=translated(app, "cs", "status '%(key)s'", key="paused")
            )
        )
    ) in saved.get_data(as_text=True)
    assert client.post(config("/forms/default/move"), data={"key": "description", "direction": "up"}).status_code == 302
    assert (
        client.post(
            config("/branding"),
            data={"primary_color": "#1f4e79", "accent_color": "", "tagline.cs": "Podpora", "tagline.hu": "Támogatás"},
        ).status_code
        == 302
    )
    client.post(portal_url("bistro", "/logout"))
    with app.app_context(), tenant_scope(bistro.id):  # stored as data, in nobody's language
        stored = db.session.scalars(select(ConfigChange.summary).order_by(ConfigChange.id)).all()
    assert stored[1:] == [
        {"what": "status", "key": "paused"},
        {"what": "field_order", "key": "default"},
        {"what": "branding"},
    ]

    def expected(lang):
        return [
            str(escape(translated(app, lang, msgid, **values)))
            for msgid, values in (
                ("branding", {}),
                ("order of the fields of form '%(key)s'", {"key": "default"}),
                ("status '%(key)s'", {"key": "paused"}),
            )
        ]

    assert _summaries(client, login, HUNGARIAN)[:3] == expected("hu")
    assert _summaries(client, login, CZECH)[:3] == expected("cs")


def test_a_summary_stored_as_text_by_an_older_version_still_shows(app, client, make_user, login):
    bistro = _bistro(app, make_user)
    with app.app_context(), tenant_scope(bistro.id):
        db.session.add(
            ConfigChange(
                actor_name=CZECH,
                summary="stav 'paused'",  # the writer's words, as stored before
                changes=["created status 'paused'"],
            )
        )
        db.session.commit()
    assert _summaries(client, login, HUNGARIAN)[0] == str(escape("stav 'paused'"))


def test_onboarding_reads_in_the_viewers_language(app, client, make_user, login):
    _bistro(app, make_user)
    for email, lang in ((HUNGARIAN, "hu"), (CZECH, "cs")):
        assert _summaries(client, login, email) == [
            str(escape(translated(app, lang, "created from '%(source)s'", source="_template")))
        ]
