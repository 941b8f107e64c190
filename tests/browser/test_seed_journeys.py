"""One journey per seed vendor, in the vendor's language, through the real pages.

Every page visited is checked by axe-core (WCAG 2.1 A/AA) and, at 360 px wide, for sideways scroll;
the main pages of Flexinform and Exea are saved as screenshots for README (docs/screenshots/).
"""

import re

import pytest

from tests.browser.conftest import outbox_messages, save_screenshot

pytestmark = pytest.mark.browser


def _status(page) -> str:
    return page.locator("aside .status").first.inner_text().strip()


def _reference(page) -> str:
    match = re.search(r"/requests/([A-Za-z]+-?\d+)", page.url)
    assert match, page.url
    return match.group(1)


def _logout(page):
    page.click("form[action='/logout'] button")


def test_flexinform_registration_to_confirmed_request(portal, check):
    """Seed 000: register, confirm the e-mail, raise a TAO "Hiba", answer the agent, confirm."""
    page = portal.new_page("flexinform")
    page.goto(portal.url("flexinform", "/"))
    assert page.locator("html").get_attribute("lang") == "hu"
    check(page)
    save_screenshot(page, "flexinform-home")
    page.goto(portal.url("flexinform", "/register"))
    check(page)
    page.fill("#name", "Varga Eszter")
    page.fill("#email", "eszter.journey@example.hu")
    page.fill("#password", "eleg-hosszu-jelszo")
    page.fill("#confirm", "eleg-hosszu-jelszo")
    page.click("main form button.btn-primary")
    assert "eszter.journey@example.hu" in page.locator("main").inner_text()
    check(page)
    (message,) = outbox_messages(portal.live_server, "eszter.journey@example.hu")
    link = re.search(r"https?://\S+", message.body_text).group(0)
    assert link.startswith(portal.url("flexinform", "/verify/"))
    page.goto(link)
    assert page.locator(".alert-success").is_visible()
    check(page)
    page.fill("#email", "eszter.journey@example.hu")
    page.fill("#password", "eleg-hosszu-jelszo")
    page.click("main form button.btn-primary")
    assert page.locator("form[action='/logout']").count() == 1

    # The TAO "Hiba" form: sent empty, every required field says so, linked to the field.
    page.goto(portal.url("flexinform", "/portals/tao/hiba/new"))
    check(page)
    save_screenshot(page, "flexinform-request-form")
    page.click("form.request-form button.btn-primary")
    alert = page.locator("[role=alert]")
    assert alert.is_visible()
    for key in ("sportszervezet", "ugyiratszam", "summary", "evad", "reszleg", "description"):
        field = page.locator(f"#field_{key}")
        assert field.get_attribute("aria-invalid") == "true", key
        assert f"field_{key}-error" in field.get_attribute("aria-describedby"), key
        assert alert.locator(f"a[href='#field_{key}']").count() == 1, key
    check(page)
    page.fill("#field_sportszervezet", "Debreceni Vasutas SC")
    page.fill("#field_ugyiratszam", "MKSZ-TAO-2026-0999")
    page.fill("#field_summary", "A költségterv mentése sikertelen")
    page.select_option("#field_evad", "2026-27")
    page.select_option("#field_reszleg", "utanpotlas")
    page.fill("#field_description", "Mentéskor „Váratlan hiba” üzenet jelenik meg.")
    page.click("form.request-form button.btn-primary")
    reference = _reference(page)
    assert _status(page) == "Nyitott"
    assert page.get_by_text("Debreceni Vasutas SC").is_visible()
    check(page)

    # The agent asks for information: the comment is required.
    agent = portal.page_as("flexinform", "agent")
    agent.goto(portal.url("flexinform", "/agent/"))
    assert agent.get_by_text(reference).first.is_visible()
    check(agent)
    save_screenshot(agent, "flexinform-agent-queue")
    agent.goto(portal.url("flexinform", f"/requests/{reference}"))
    check(agent)
    ask = agent.locator("form.transition-form", has=agent.get_by_role("button", name="Bejelentő válaszára vár"))
    assert ask.locator("textarea").get_attribute("required") is not None
    ask.locator("textarea").fill("Kérjük, küldje el a hibaüzenet képernyőképét.")
    ask.get_by_role("button", name="Bejelentő válaszára vár").click()
    assert _status(agent) == "Bejelentő válaszára vár"

    # The customer replies on the portal: the request goes back to support.
    page.goto(portal.url("flexinform", f"/requests/{reference}"))
    assert _status(page) == "Bejelentő válaszára vár"
    assert page.get_by_text("Kérjük, küldje el a hibaüzenet képernyőképét.").is_visible()
    check(page)
    page.fill("#comment-body", "A hiba a 3. tételnél jelentkezik, a képernyőképet csatoltam.")
    page.click("#comment-form button.btn-primary")
    assert _status(page) == "Folyamatban"

    # The agent resolves; the customer confirms: Kész is final.
    agent.goto(portal.url("flexinform", f"/requests/{reference}"))
    agent.get_by_role("button", name="Megoldva", exact=True).click()
    assert _status(agent) == "Megoldva"
    check(agent)
    page.goto(portal.url("flexinform", f"/requests/{reference}"))
    assert _status(page) == "Megoldva"
    check(page)
    save_screenshot(page, "flexinform-request")
    page.get_by_role("button", name="Késznek jelölés").click()
    assert _status(page) == "Kész"
    assert page.locator("#comment-form").count() == 0
    check(page)
    page.goto(portal.url("flexinform", "/requests?status=all"))
    assert page.get_by_text(reference).first.is_visible()
    check(page)


def test_crmservice_severity_only_for_bugs_and_change_status_when_commenting(portal, check):
    """Seed 001: severity is chosen for Bug only (Support/Work Order store "Severity 10 – Not in SLA");
    a comment may change the status ("Change status to")."""
    page = portal.page_as("crmservice", "customer")
    assert page.locator("html").get_attribute("lang") == "fi"
    check(page)
    page.goto(portal.url("crmservice", "/portals/support/ticket/new"))
    severity = page.locator("#field_severity")
    assert not severity.is_visible()
    check(page)
    page.select_option("#field_category", "bug")
    assert severity.is_visible()
    check(page)
    page.select_option("#field_category", "work_order")
    assert not severity.is_visible()
    page.fill("#field_summary", "Uusi raporttipohja laskutukseen")
    page.fill("#field_description", "Tarvitsemme kuukausiraportin uudella pohjalla.")
    page.select_option("#field_priority", "medium")
    page.click("form.request-form button.btn-primary")
    reference = _reference(page)
    assert page.get_by_text("Severity 10 – Not in SLA").is_visible()
    check(page)

    agent = portal.page_as("crmservice", "agent")
    agent.goto(portal.url("crmservice", f"/requests/{reference}"))
    check(agent)
    ask = agent.locator("form.transition-form", has=agent.get_by_role("button", name="Odottaa asiakkaan vastausta"))
    ask.locator("textarea").fill("Lähettäisittekö raporttipohjan?")
    ask.get_by_role("button", name="Odottaa asiakkaan vastausta").click()
    assert _status(agent) == "Odottaa asiakkaan vastausta"

    page.goto(portal.url("crmservice", f"/requests/{reference}"))
    # The seed's "Change status to", in Finnish: the status select of the comment form.
    assert page.get_by_label("Muuta tila").get_attribute("id") == "comment-transition"
    check(page)
    page.fill("#comment-body", "Pohja on liitteenä, sarakkeet kuten ennenkin.")
    page.select_option("#comment-transition", label="Waiting respond from the CRM-team")
    page.click("#comment-form button.btn-primary")
    assert _status(page) == "Waiting respond from the CRM-team"
    assert page.get_by_text("Pohja on liitteenä, sarakkeet kuten ennenkin.").is_visible()
    check(page)


def test_festum_cc_answer_and_reopening_by_email_reply(portal, check):
    """Seed 002: the CC address hears once support has answered; a reply to the e-mail reopens a
    Valmis request."""
    from email.message import EmailMessage
    from email.utils import make_msgid
    from mailbox import Maildir

    from app.mailin.intake import ingest
    from app.unit_of_work import unit
    from app.tenancy.models import Tenant
    from tests.notifications.test_request_notifications import deliver

    live = portal.live_server
    page = portal.page_as("festum", "customer")
    page.goto(portal.url("festum", "/portals/asiakastuki/palvelupyynto/new"))
    assert page.locator("html").get_attribute("lang") == "fi"
    check(page)
    page.fill("#field_cc", "kopio.journey@example.fi")
    page.fill("#field_summary", "Laskutusajo keskeytyy")
    page.select_option("#field_severity", "vakava")
    page.fill("#field_description", "Kuukauden laskutusajo pysähtyy virheeseen 42.")
    page.click("form.request-form button.btn-primary")
    reference = _reference(page)
    assert page.get_by_text("kopio.journey@example.fi").first.is_visible()
    check(page)

    agent = portal.page_as("festum", "agent")
    agent.goto(portal.url("festum", f"/requests/{reference}"))
    check(agent)
    agent.fill("#comment-body", "Korjasimme laskutusajon, se on nyt ajettu loppuun.")
    agent.click("#comment-form button.btn-primary")
    agent.get_by_role("button", name="Merkitse valmiiksi").click()
    assert _status(agent) == "Valmis"

    deliver(live.app)  # the batch window has passed: the notifications go out
    maildir = Maildir(live.app.config["MAIL_URL"].removeprefix("maildir://"), create=False)
    mails = [m for m in maildir if "[Festum #" in str(m["Subject"])]

    def to(address):
        return [m for m in mails if address in str(m["To"])]

    assert to("kopio.journey@example.fi"), "the CC address hears once support has answered"
    mail = to("customer@festum.test")[-1]
    reply = EmailMessage()
    reply["From"] = "customer@festum.test"
    reply["To"] = mail["Reply-To"]
    reply["Subject"] = "Re: " + str(mail["Subject"])
    reply["Message-ID"] = make_msgid(domain="client.example")
    reply["In-Reply-To"] = mail["Message-ID"]
    reply["References"] = f"{mail['References'] or ''} {mail['Message-ID']}".strip()
    reply.set_content("Sama virhe tuli taas tänä aamuna.\n\n> " + "\n> ".join(str(mail["Subject"]).splitlines()))
    with live.app.app_context():
        from app.extensions import db

        tenant_id = db.session.execute(db.select(Tenant.id).where(Tenant.slug == "festum")).scalar_one()
        with unit():  # the boundary the intake job or command would be
            row = ingest(reply.as_bytes(), tenant_id)
        assert row.ticket_id is not None, row.reason

    page.goto(portal.url("festum", f"/requests/{reference}"))
    assert _status(page) == "Käsittelyssä"
    assert page.get_by_text("Sama virhe tuli taas tänä aamuna.").is_visible()
    check(page)


def test_targito_priority_information_rejection_and_approval(portal, check):
    """Seed 003: priority only for "Něco mi nefunguje"; the agent asks for information (a required
    field), the customer rejects with a required comment, the agent re-opens and resolves again, the
    customer approves; the customer only ever sees Otevřeno / V řešení / Hotovo."""
    customer_names = {"Otevřeno", "V řešení", "Hotovo"}
    page = portal.page_as("targito", "customer")
    page.goto(portal.url("targito", "/portals/support/question/new"))
    check(page)
    assert page.locator("#field_priority").count() == 0 or not page.locator("#field_priority").is_visible()
    page.goto(portal.url("targito", "/portals/support/bug/new"))
    assert page.locator("#field_priority").is_visible()
    check(page)
    page.fill("#field_summary", "Kampaň se neodeslala")
    page.fill("#field_description", "Naplánovaná kampaň zůstala ve stavu Připraveno.")
    page.select_option("#field_priority", "high")
    page.click("form.request-form button.btn-primary")
    reference = _reference(page)
    assert _status(page) == "Otevřeno"
    check(page)

    agent = portal.page_as("targito", "agent")
    agent.goto(portal.url("targito", f"/requests/{reference}"))
    agent.get_by_role("button", name="Přijmout požadavek").click()
    check(agent)
    ask = agent.locator("form.transition-form", has=agent.get_by_role("button", name="Vyžádat informace od zadavatele"))
    needed = ask.locator("textarea[name$=field_information_needed]")
    assert needed.get_attribute("required") is not None
    needed.fill("Pošlete prosím ID kampaně a čas plánovaného odeslání.")
    ask.get_by_role("button", name="Vyžádat informace od zadavatele").click()
    assert _status(agent) == "Waiting for customer"

    page.goto(portal.url("targito", f"/requests/{reference}"))
    assert _status(page) == "V řešení"
    assert page.get_by_text("Pošlete prosím ID kampaně").first.is_visible()
    check(page)
    page.fill("#comment-body", "ID kampaně 4711, odeslání v 9:00.")
    page.click("#comment-form button.btn-primary")

    agent.goto(portal.url("targito", f"/requests/{reference}"))
    if agent.get_by_role("button", name="Vrátit klientské podpoře").count():
        agent.get_by_role("button", name="Vrátit klientské podpoře").click()
    agent.get_by_role("button", name="Vyřízeno – předat ke schválení").click()
    assert _status(agent) == "Čeká na potvrzení"

    page.goto(portal.url("targito", f"/requests/{reference}"))
    assert _status(page) == "V řešení"
    reject = page.locator("form.transition-form", has=page.get_by_role("button", name="Odmítnout"))
    assert reject.locator("textarea").get_attribute("required") is not None
    check(page)
    reject.locator("textarea").fill("Kampaň se pořád neodesílá.")
    reject.get_by_role("button", name="Odmítnout").click()
    assert _status(page) == "V řešení"

    agent.goto(portal.url("targito", f"/requests/{reference}"))
    assert _status(agent) == "Waiting for support"
    agent.get_by_role("button", name="Znovu otevřít (re-open)").click()
    assert _status(agent) == "Re-open"
    agent.get_by_role("button", name="Vyřízeno – předat ke schválení").click()
    assert _status(agent) == "Čeká na potvrzení"

    page.goto(portal.url("targito", f"/requests/{reference}"))
    page.get_by_role("button", name="Schválit").click()
    assert _status(page) == "Hotovo"
    check(page)
    page.goto(portal.url("targito", "/requests?status=all"))
    shown = set(page.locator("#filter-status optgroup option").all_inner_texts())
    assert shown == customer_names
    row = page.locator("tr", has=page.get_by_text(reference, exact=True))
    assert row.locator(".status").inner_text().strip() == "Hotovo"
    check(page)


def test_exea_sharing_with_the_organization_close_and_reopen(portal, check):
    """Seed 004: a private request shared with the organization afterwards is seen by a colleague
    under the organization's requests; resolved → reopened → closed, closed ones behind a filter."""
    from app.accounts.models import Organization, User
    from app.accounts.organizations import add_membership
    from app.accounts.users import create_user
    from app.extensions import db
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import tenant_scope

    live = portal.live_server
    with live.app.app_context():
        tenant_id = db.session.execute(db.select(Tenant.id).where(Tenant.slug == "exea")).scalar_one()
        with tenant_scope(tenant_id):
            if db.session.execute(db.select(User).where(User.email == "kolega@exea.test")).scalar_one_or_none() is None:
                colleague = create_user("kolega@exea.test", name="Jan Kolega", password="demo-password", verified=True)
                org = db.session.execute(db.select(Organization)).scalars().first()
                add_membership(colleague, org)
                db.session.commit()

    page = portal.page_as("exea", "customer")
    assert page.locator("html").get_attribute("lang") == "pl"
    check(page)
    save_screenshot(page, "exea-home")
    page.goto(portal.url("exea", "/portals/support/technical_question/new"))
    check(page)
    save_screenshot(page, "exea-request-form")
    page.fill("#field_summary", "Certyfikat TLS wygasa w piątek")
    page.fill("#field_description", "Prosimy o odnowienie certyfikatu dla portal.pcl.example.")
    page.fill("#field_phone", "+48 58 555 01 23")
    page.select_option("#share_with", "private")
    page.click("form.request-form button.btn-primary")
    reference = _reference(page)
    check(page)

    colleague = portal.page_as("exea", "kolega@exea.test")
    colleague.goto(portal.url("exea", "/requests?scope=organization&status=all"))
    assert colleague.get_by_text(reference, exact=True).count() == 0
    check(colleague)

    page.get_by_role("button", name=re.compile("Pomorskie Centrum Logistyczne")).click()
    assert page.locator("#sharing").get_by_text("Pomorskie Centrum Logistyczne Sp. z o.o.").first.is_visible()
    check(page)
    colleague.goto(portal.url("exea", "/requests?scope=organization&status=all"))
    assert colleague.get_by_text(reference, exact=True).is_visible()

    agent = portal.page_as("exea", "agent")
    agent.goto(portal.url("exea", "/agent/"))
    check(agent)
    save_screenshot(agent, "exea-agent-queue")
    agent.goto(portal.url("exea", f"/requests/{reference}"))
    agent.fill("#comment-body", "Certyfikat odnowiony, ważny do przyszłego roku.")
    agent.click("#comment-form button.btn-primary")
    agent.get_by_role("button", name="Rozwiąż").click()
    assert _status(agent) == "Rozwiązane"

    page.goto(portal.url("exea", f"/requests/{reference}"))
    assert _status(page) == "Rozwiązane"
    check(page)
    save_screenshot(page, "exea-request")
    page.get_by_role("button", name="Otwórz ponownie").click()
    assert _status(page) == "Zgłoszenie przyjęte"
    page.get_by_role("button", name="Zamknij zgłoszenie").click()
    assert _status(page) == "Zamknięte"
    check(page)
    page.goto(portal.url("exea", "/requests"))
    assert page.get_by_text(reference, exact=True).count() == 0  # closed ones only through a filter
    page.goto(portal.url("exea", "/requests?status=closed"))
    assert page.get_by_text(reference, exact=True).is_visible()
    check(page)
