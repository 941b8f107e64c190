"""Suggestions while a customer types a new request's summary, and how many requests they saved."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db_types import utcnow
from app.extensions import db
from app.helpcenter.models import SuggestionEvent
from tests.conftest import portal_url

# Suggestions come from each engine's own search SQL.
pytestmark = pytest.mark.both_databases


def test_the_request_form_suggests_matching_articles(client, exea, login):
    exea.article("Jak odtworzyć plik z kopii zapasowej", "Zamów odtworzenie w zgłoszeniu typu Wsparcie.")
    exea.article("Zgłaszanie wizyty kolokacyjnej", "Wizyty zgłaszamy dzień wcześniej.")
    exea.article("Szkic o kopiach", "kopia", publish=False)
    login("exea", "klient@pcl.pl")
    form = client.get(portal_url("exea", "/portals/support/support/new")).get_data(as_text=True)
    assert 'id="help-suggestions"' in form and "js/help_suggestions.js" in form and 'id="field_summary"' in form
    answer = client.get(
        portal_url("exea", "/help/suggest"),
        query_string={"q": "Prosze o odtworzenie pliku z kopii", "context": "request"},
    ).get_json()
    assert [a["title"] for a in answer["articles"]] == ["Jak odtworzyć plik z kopii zapasowej"]
    assert answer["articles"][0]["url"] == "/help/articles/jak-odtworzyc-plik-z-kopii-zapasowej?from=suggestion"
    assert client.get(portal_url("exea", "/help/suggest"), query_string={"q": "ko"}).get_json() == {"articles": []}
    shown = exea(lambda: [(e.kind, e.article_id is not None) for e in db.session.scalars(select(SuggestionEvent))])
    assert shown == [("shown", True)]


def test_opening_a_suggestion_without_raising_a_request_counts_as_deflected(client, exea, login):
    slug = exea.article("Jak odtworzyć plik z kopii zapasowej", "Instrukcja.")
    exea.article("Zgłaszanie wizyty kolokacyjnej", "Wizyty zgłaszamy dzień wcześniej.")
    login("exea", "klient@pcl.pl")
    client.get(portal_url("exea", "/help/suggest"), query_string={"q": "odtworzenie kopii", "context": "request"})
    assert client.get(portal_url("exea", f"/help/articles/{slug}?from=suggestion")).status_code == 200
    client.post(portal_url("exea", "/logout"))
    login("exea", "kolega@pcl.pl")  # a second visit: opens the suggestion, then raises a request anyway
    client.get(portal_url("exea", "/help/suggest"), query_string={"q": "odtworzenie kopii", "context": "request"})
    client.get(portal_url("exea", f"/help/articles/{slug}?from=suggestion"))
    exea.request("kolega@pcl.pl", "Jednak prosimy o odtworzenie")
    client.post(portal_url("exea", "/logout"))
    login("exea", "obcy@inna.pl")  # a third: suggestions shown, nothing opened
    client.get(portal_url("exea", "/help/suggest"), query_string={"q": "odtworzenie kopii", "context": "request"})

    from app.helpcenter.services import deflection_summary

    def summary(minutes):
        result = deflection_summary(now=utcnow() + timedelta(minutes=minutes))
        return (
            result.visits_shown,
            result.visits_opened,
            result.deflected,
            result.pending,
            [(a.slug, opened, saved) for a, opened, saved in result.by_article],
        )

    assert exea(lambda: summary(5)) == (3, 2, 0, 1, [(slug, 2, 0)])  # the first visit is still pending
    assert exea(lambda: summary(31)) == (3, 2, 1, 0, [(slug, 2, 1)])  # 30 minutes later: one request saved
    client.post(portal_url("exea", "/logout"))
    login("exea", "admin@exea.pl", locale="en")
    page = client.get(portal_url("exea", "/admin/help-center")).get_data(as_text=True)
    assert 'class="details deflection"' in page and "Jak odtworzyć plik z kopii zapasowej" in page


def test_a_request_raised_within_30_minutes_of_opening_is_not_deflected(app, exea):
    from app.helpcenter.services import deflection_summary, record_suggestions

    slug = exea.article("Reset hasła", "Instrukcja.")

    def scenario():
        from app.helpcenter.models import Article

        article = db.session.execute(select(Article).where(Article.slug == slug)).scalar_one()
        person = exea.user("klient@pcl.pl")
        record_suggestions(person, "visit-1", [article.id], "shown")
        record_suggestions(person, "visit-1", [article.id], "shown")  # shown again in the same visit: once
        record_suggestions(person, "visit-1", [article.id], "opened")
        events = db.session.scalars(select(SuggestionEvent)).all()
        for event in events:
            event.created_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        return len(events)

    assert exea(scenario) == 2
    exea.request("klient@pcl.pl", "Nie mogę zresetować hasła")  # now: 2 h after opening → still deflected

    def counted():
        from app.tickets.models import Ticket

        first = deflection_summary().deflected
        ticket = db.session.scalars(select(Ticket)).one()
        ticket.created_at = utcnow() - timedelta(hours=2) + timedelta(minutes=20)  # within 30 min of the opening
        db.session.commit()
        return first, deflection_summary().deflected

    assert exea(counted) == (1, 0)


def test_customers_cannot_see_the_deflection_page(client, exea, login):
    login("exea", "klient@pcl.pl")
    assert client.get(portal_url("exea", "/admin/help-center")).status_code == 404
