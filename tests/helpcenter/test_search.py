"""The portal's one search: articles and requests together, ranked, diacritics- and typo-tolerant,
never showing what the person may not see; on SQLite (FTS5) and PostgreSQL (tsvector)."""

import re

import pytest

from tests.conftest import portal_url

# Search is SQL of each engine's own (PostgreSQL full text and trigrams, SQLite's fallback).
pytestmark = pytest.mark.both_databases


def _search(client, q, slug="exea"):
    return client.get(portal_url(slug, "/help/search"), query_string={"q": q}).get_data(as_text=True)


def _titles(html):
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<h2><a href="[^"]+">(.*?)</a></h2>', html)]


def test_a_title_match_ranks_above_a_body_match(client, exea):
    exea.article("Jak działa backup", "Wszystko o kopiach.")
    exea.article("Wizyta w serwerowni", "Przed wizytą warto sprawdzić, czy backup serwera jest aktualny.")
    exea.article("Zmiana hasła", "Nic o tym.")
    assert _titles(_search(client, "backup")) == ["Jak działa backup", "Wizyta w serwerowni"]


def test_zgloszenie_without_diacritics_or_with_a_typo_finds_zgloszenie(client, exea):
    exea.article("Jak wysłać zgłoszenie awarii", "Opis krok po kroku.")
    for query in ("zgłoszenie", "zgloszenie", "ZGLOSZENIE", "zgłoszenia", "zgloszneie", "zgoszenie"):
        assert _titles(_search(client, query)) == ["Jak wysłać zgłoszenie awarii"], query


def test_customers_never_see_drafts_nor_other_tenants_articles(client, exea, make_tenant, make_user, login):
    from tests.helpcenter.conftest import TenantWorld

    exea.article("Kopia zapasowa – szkic", "backup", publish=False)
    exea.article("Kopia zapasowa baz danych", "backup")
    targito = make_tenant("targito")
    make_user(targito, "agent@targito.cz", role="agent")
    TenantWorld(client.application, targito, "targito").article(
        "Backup in Targito", "backup", author="agent@targito.cz", language="en"
    )
    assert _titles(_search(client, "backup")) == ["Kopia zapasowa baz danych"]  # anonymous: public only

    def across_tenants():  # the SQL itself keeps to the tenant, even with the automatic scope off
        from flask_login import AnonymousUserMixin

        from app.helpcenter.search import search
        from app.tenancy.scoping import all_tenants

        with all_tenants():
            return [
                r.article.title
                for r in search(
                    AnonymousUserMixin(), "backup", tenant_id=exea.tenant.id, language="en", default_language="pl"
                )
            ]

    assert exea(across_tenants) == ["Kopia zapasowa baz danych"]
    login("exea", "klient@pcl.pl")
    assert _titles(_search(client, "backup")) == ["Kopia zapasowa baz danych"]
    assert client.get(portal_url("exea", "/help/articles/kopia-zapasowa-szkic")).status_code == 404
    assert client.get(portal_url("exea", "/help/articles/backup-in-targito")).status_code == 404


def test_organization_articles_only_for_their_members(client, exea, login):
    exea.article(
        "Procedura wejścia do szafy PCL", "Klucze i karty dostępu.", visibility="organizations", organizations=["PCL"]
    )
    exea.article("Regulamin serwerowni", "Klucze wydaje recepcja.", visibility="customers")
    url = portal_url("exea", "/help/articles/procedura-wejscia-do-szafy-pcl")
    assert _titles(_search(client, "klucze")) == []
    assert client.get(url).status_code == 404
    login("exea", "obcy@inna.pl")
    assert _titles(_search(client, "klucze")) == ["Regulamin serwerowni"]
    assert client.get(url).status_code == 404
    client.post(portal_url("exea", "/logout"))
    login("exea", "klient@pcl.pl")
    assert sorted(_titles(_search(client, "klucze"))) == ["Procedura wejścia do szafy PCL", "Regulamin serwerowni"]
    assert client.get(url).status_code == 200


def test_exea_home_search_finds_articles_and_my_requests_with_and_without_diacritics(client, exea, login):
    exea.article("Zgłoszenie wizyty kolokacyjnej", "Wizytę zgłoś co najmniej dzień wcześniej.")
    mine = exea.request("klient@pcl.pl", "Wizyta 26.11 – wymiana pamięci", "Zgłaszamy wizytę w szafie R12.")
    exea.request("obcy@inna.pl", "Wizyta obcej firmy", "Wizyta w szafie R7.")
    login("exea", "klient@pcl.pl")
    home = client.get(portal_url("exea", "/")).get_data(as_text=True)
    assert 'action="/help/search"' in home
    for query in ("wizyta", "wizyty", "pamięci", "pamieci"):
        html = _search(client, query)
        assert "Wizyta obcej firmy" not in html, query
        assert mine in html or query.startswith("wizyty"), query
    html = _search(client, "wizyta")
    assert set(_titles(html)) == {"Zgłoszenie wizyty kolokacyjnej", "Wizyta 26.11 – wymiana pamięci"}
    assert "<mark>Wizyta</mark>" in html
    assert _titles(_search(client, "pamieci")) == ["Wizyta 26.11 – wymiana pamięci"]
    assert _titles(_search(client, "zgloszenie")) == ["Zgłoszenie wizyty kolokacyjnej"]
    assert mine in _search(client, mine)  # the reference finds the request too


def test_snippets_escape_everything_except_the_highlight(client, exea):
    exea.article("Skrypt <script>alert(1)</script> kopii", 'Kopia <img src=x onerror="alert(2)"> **danych**')
    html = _search(client, "kopii")
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html
    assert "<mark>kopii</mark>" in html
    suggestion = client.get(portal_url("exea", "/help/suggest"), query_string={"q": "kopia danych"}).get_json()
    assert "<img" not in suggestion["articles"][0]["snippet_html"]
    assert "<script" not in suggestion["articles"][0]["title_html"]


def test_finnish_is_stemmed_on_postgresql_and_folded_everywhere(client, make_tenant, make_user):
    from tests.helpcenter.conftest import TenantWorld

    festum = make_tenant("festum")
    make_user(festum, "tuki@festum.fi", role="agent")
    world = TenantWorld(client.application, festum, "festum")
    world.article("Salasanan vaihtaminen", "Näin vaihdat salasanasi.", author="tuki@festum.fi", language="fi")
    assert _titles(_search(client, "salasana", "festum")) == ["Salasanan vaihtaminen"]
    assert _titles(_search(client, "nain vaihdat", "festum")) == ["Salasanan vaihtaminen"]
