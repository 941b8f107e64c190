"""Articles: staff write and publish them, every save keeps the previous text, a resolved request
becomes a draft, and agents link articles in their replies."""

import io
import re

from sqlalchemy import select

from app.extensions import db
from app.helpcenter.models import Article, ArticleFile
from tests.conftest import portal_url


def test_agents_write_publish_and_restore_earlier_versions(client, exea, login):
    login("exea", "agent@exea.pl")
    response = client.post(
        portal_url("exea", "/help/manage/new"),
        data={
            "title": "Kopie zapasowe",
            "language": "pl",
            "visibility": "public",
            "body": "Pierwsza wersja.",
            "action": "save",
        },
    )
    assert response.status_code == 302
    article_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(portal_url("exea", "/logout"))
    assert client.get(portal_url("exea", "/help/articles/kopie-zapasowe")).status_code == 404  # a draft
    login("exea", "agent@exea.pl")
    edit = portal_url("exea", f"/help/manage/{article_id}")
    client.post(
        edit,
        data={
            "title": "Kopie zapasowe",
            "language": "pl",
            "visibility": "public",
            "body": "Druga wersja.",
            "action": "publish",
        },
    )
    history = client.get(edit + "/history").get_data(as_text=True)
    assert "Pierwsza wersja." in history and "Druga wersja." not in history  # the current text is the page's
    assert client.post(edit + "/history/1/restore").status_code == 302
    page = client.get(portal_url("exea", "/help/articles/kopie-zapasowe")).get_data(as_text=True)
    assert "Pierwsza wersja." in page

    def state():
        article = db.session.get(Article, article_id)
        from app.helpcenter.services import versions

        return article.version, article.status, [(v.number, v.body) for v in versions(article)]

    assert exea(state) == (3, "published", [(2, "Druga wersja."), (1, "Pierwsza wersja.")])


def test_customers_cannot_reach_the_editor(client, exea, login):
    login("exea", "klient@pcl.pl")
    assert client.get(portal_url("exea", "/help/manage/")).status_code == 404
    assert (
        client.post(
            portal_url("exea", "/help/manage/new"), data={"title": "x", "language": "pl", "visibility": "public"}
        ).status_code
        == 404
    )


def test_article_bodies_are_sanitized_markdown_with_their_own_images(client, exea, login):

    slug = exea.article(
        "Schemat szafy", "## Zasilanie\n\n<script>alert(1)</script> **A i B**\n\n![zewn](https://evil.example/x.png)"
    )
    login("exea", "agent@exea.pl")
    article_id = exea(lambda: db.session.execute(select(Article.id).where(Article.slug == slug)).scalar_one())
    client.post(
        portal_url("exea", f"/help/manage/{article_id}"),
        data={
            "title": "Schemat szafy",
            "language": "pl",
            "visibility": "public",
            "action": "save",
            "body": "## Zasilanie\n\n<script>alert(1)</script> **A i B**\n\n![zewn](https://evil.example/x.png)",
            "files": (io.BytesIO(_PNG), "szafa.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    editor = client.get(portal_url("exea", f"/help/manage/{article_id}")).get_data(as_text=True)
    image_src = re.search(r"!\[szafa.png\]\(([^)]+)\)", editor).group(1)
    client.post(
        portal_url("exea", f"/help/manage/{article_id}"),
        data={
            "title": "Schemat szafy",
            "language": "pl",
            "visibility": "public",
            "action": "save",
            "body": f"## Zasilanie\n\n<script>alert(1)</script> **A i B**\n\n![szafa]({image_src})",
        },
    )
    page = client.get(portal_url("exea", f"/help/articles/{slug}")).get_data(as_text=True)
    assert "<h2>Zasilanie</h2>" in page and "<strong>A i B</strong>" in page
    assert "<script>alert" not in page
    assert f'<img src="{image_src}" alt="szafa">' in page
    image = client.get(portal_url("exea", image_src))
    assert image.status_code == 200 and image.data == _PNG and image.mimetype == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_claiming_to_be_a_picture_is_not_served_as_one(exea, client, login):
    """The type is read from the bytes: HTML sent as "image/png" is a download with a safe name,
    never a page rendered on the portal's host."""
    slug = exea.article("Schemat", "Tekst")
    login("exea", "agent@exea.pl")
    article_id = exea(lambda: db.session.execute(select(Article.id).where(Article.slug == slug)).scalar_one())
    client.post(
        portal_url("exea", f"/help/manage/{article_id}"),
        data={
            "title": "Schemat",
            "language": "pl",
            "visibility": "public",
            "action": "save",
            "body": "Tekst",
            "files": (io.BytesIO(b"<html><script>alert(document.cookie)</script></html>"), "../CON.png. ", "image/png"),
        },
        content_type="multipart/form-data",
    )
    stored = exea(
        lambda: db.session.execute(select(ArticleFile.filename, ArticleFile.content_type, ArticleFile.id)).one()
    )
    assert stored[0] == "_CON.png" and stored[1] == "text/html"
    response = client.get(portal_url("exea", f"/help/articles/{slug}/files/{stored[2]}"))
    assert response.mimetype != "image/png" and response.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), "white").save(out, "PNG")
    return out.getvalue()


_PNG = _png()


def _resolved_request(exea):
    from app.tickets.conversation import add_comment
    from app.workflow.models import Status
    from app.tickets.transitions import move_to_status

    reference = exea.request("klient@pcl.pl", "Jak odtworzyć folder z kopii?", "Usunęliśmy folder Umowy.")

    def answer():
        from app.tickets.models import Ticket

        ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()
        agent = exea.user("agent@exea.pl")
        add_comment(ticket, agent, "Odtworzymy go z kopii z 16.11, 22:00.")
        add_comment(ticket, agent, "Notatka wewnętrzna: zespół backupu.", is_internal=True)
        add_comment(ticket, exea.user("klient@pcl.pl"), "Dziękuję!")
        move_to_status(
            ticket,
            db.session.execute(select(Status).where(Status.category == "resolved")).scalars().first(),
            actor_user=agent,
        )
        db.session.commit()

    exea(answer)
    return reference


def test_a_resolved_request_becomes_an_article_draft(client, exea, login):
    reference = _resolved_request(exea)
    login("exea", "klient@pcl.pl")
    assert "Make a help article draft" not in client.get(portal_url("exea", f"/requests/{reference}")).get_data(
        as_text=True
    )
    assert client.post(portal_url("exea", f"/help/manage/from-request/{reference}")).status_code == 404
    client.post(portal_url("exea", "/logout"))
    login("exea", "agent@exea.pl", locale="en")
    page = client.get(portal_url("exea", f"/requests/{reference}")).get_data(as_text=True)
    assert f'action="/help/manage/from-request/{reference}"' in page
    response = client.post(portal_url("exea", f"/help/manage/from-request/{reference}"))
    assert response.status_code == 302

    def draft():
        article = db.session.execute(select(Article)).scalar_one()
        return article.title, article.body, article.status, article.language

    title, body, status, language = exea(draft)
    assert (title, status, language) == ("Jak odtworzyć folder z kopii?", "draft", "pl")
    assert "Usunęliśmy folder Umowy." in body and "Odtworzymy go z kopii z 16.11, 22:00." in body
    assert "Notatka wewnętrzna" not in body and "Dziękuję" not in body


def test_only_resolved_requests_become_drafts(client, exea, login):
    reference = exea.request("klient@pcl.pl", "Otwarte pytanie", "Jeszcze w toku.")
    login("exea", "agent@exea.pl")
    assert client.post(portal_url("exea", f"/help/manage/from-request/{reference}")).status_code == 302
    assert exea(lambda: db.session.execute(select(Article.id)).first()) is None


def test_agents_insert_article_links_in_replies(client, exea, login):
    exea.article("Zgłaszanie wizyty kolokacyjnej", "Wizytę zgłoś dzień wcześniej.")
    reference = exea.request("klient@pcl.pl", "Wizyta jutro", "Czy mogę przyjść?")
    login("exea", "agent@exea.pl")
    page = client.get(portal_url("exea", f"/requests/{reference}")).get_data(as_text=True)
    assert 'id="article-link-helper"' in page and "js/article_links.js" in page
    found = client.get(portal_url("exea", "/help/suggest"), query_string={"q": "wizyta"}).get_json()["articles"]
    link = "http://exea.portal.test/help/articles/zglaszanie-wizyty-kolokacyjnej"
    assert found[0]["markdown"] == f"[Zgłaszanie wizyty kolokacyjnej]({link})"
    # The reply with the inserted link shows the customer a working link.
    client.post(
        portal_url("exea", f"/requests/{reference}/comments"), data={"body": f"Proszę zobaczyć {found[0]['markdown']}"}
    )
    client.post(portal_url("exea", "/logout"))
    login("exea", "klient@pcl.pl")
    page = client.get(portal_url("exea", f"/requests/{reference}")).get_data(as_text=True)
    assert f'<a href="{link}"' in page and 'id="article-link-helper"' not in page


def test_every_demo_tenant_gets_its_demo_articles_once(app, demo_tenants, make_user):
    from pathlib import Path

    import yaml

    from app.accounts.models import User
    from app.helpcenter.services import seed_demo_articles
    from app.tenancy.scoping import tenant_scope
    from tests.conftest import TENANTS_DIR

    for slug, tenant in demo_tenants.items():
        make_user(tenant, f"agent@{slug}.test", role="agent")
        items = yaml.safe_load(Path(TENANTS_DIR / slug / "demo.yaml").read_text(encoding="utf-8"))["articles"]
        with app.app_context(), tenant_scope(tenant.id):
            agent = db.session.execute(select(User)).scalar_one()
            assert seed_demo_articles(tenant, agent, items) == len(items) >= 3
            assert seed_demo_articles(tenant, agent, items) == 0
            languages = {a.language for a in db.session.scalars(select(Article))}
            assert languages <= set(tenant.locales) and tenant.default_locale in languages
