"""MIME parsing: headers, bodies, attachments, loop-protection signals; never raises.

Pure functions: no database, no ``app`` fixture. Public fixtures: see ``fixtures/SOURCES.md``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.mailin.parsing import html_to_text, parse_message
from app.mailin.reply import strip_reply

FIXTURES = Path(__file__).parent / "fixtures"


def load(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


# --- our own messages -------------------------------------------------------------------------

HU_OUTLOOK_REPLY = crlf("""\
From: =?utf-8?B?S2lzcyDDgWduZXM=?= <Agnes.Kiss@Ugyfel.HU>
To: Flexinform <reply+t1234.abc@flexinform.portal.test>
Cc: "Nagy, Béla" <bela.nagy@ugyfel.hu>
Reply-To: <agnes.kiss@ugyfel.hu>
Subject: =?utf-8?Q?RE:_[Flexinform_#1234]_Sz=C3=A1ml=C3=A1z=C3=A1si_hiba?=
Date: Tue, 5 Mar 2024 15:02:11 +0100
Message-ID: < AM0PR01MB1234@eurprd01.prod.outlook.com >
In-Reply-To: <ticket-1234.1@flexinform.portal.test>
References: <ticket-1234.0@flexinform.portal.test>
 <ticket-1234.1@flexinform.portal.test>
MIME-Version: 1.0
X-Mailer: Microsoft Outlook 16.0
Content-Type: multipart/mixed; boundary="mixed"

--mixed
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset="iso-8859-2"
Content-Transfer-Encoding: quoted-printable

K=F6sz=F6n=F6m, a sz=E1mla rendben meg=E9rkezett.

Felad=F3: Flexinform <support@flexinform.portal.test>
Elk=FCldve: 2024. m=E1rcius 5., kedd 14:02
C=EDmzett: Kiss =C1gnes <agnes.kiss@ugyfel.hu>
T=E1rgy: [Flexinform #1234] Sz=E1ml=E1z=E1si hiba

R=E9gi lev=E9l
--alt
Content-Type: text/html; charset="utf-8"

<p class=3DMsoNormal>Köszönöm</p>
--alt--

--mixed
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''Sz%C3%A1mla_%C5%91sz.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--mixed--
""")


def test_headers_of_an_outlook_reply():
    parsed = parse_message(HU_OUTLOOK_REPLY)
    assert not parsed.malformed
    assert parsed.message_id == "AM0PR01MB1234@eurprd01.prod.outlook.com"
    assert parsed.in_reply_to == ["ticket-1234.1@flexinform.portal.test"]
    assert parsed.references == ["ticket-1234.0@flexinform.portal.test", "ticket-1234.1@flexinform.portal.test"]
    assert parsed.subject == "RE: [Flexinform #1234] Számlázási hiba"
    assert parsed.from_name == "Kiss Ágnes"
    assert parsed.from_address == "agnes.kiss@ugyfel.hu"
    assert parsed.reply_to == "agnes.kiss@ugyfel.hu"
    assert parsed.to == ["reply+t1234.abc@flexinform.portal.test"]
    assert parsed.cc == ["bela.nagy@ugyfel.hu"]
    assert parsed.date == datetime(2024, 3, 5, 14, 2, 11, tzinfo=timezone.utc)
    assert parsed.size == len(HU_OUTLOOK_REPLY)
    assert not parsed.is_auto_reply and not parsed.is_bounce and not parsed.is_noreply_sender


def test_plain_text_is_preferred_and_decoded_from_its_charset():
    parsed = parse_message(HU_OUTLOOK_REPLY)
    assert parsed.text.startswith("Köszönöm, a számla rendben megérkezett.")
    assert not parsed.text_is_from_html
    assert parsed.html is not None and "Köszönöm" in parsed.html
    assert strip_reply(parsed.text).visible == "Köszönöm, a számla rendben megérkezett."


def test_rfc2231_attachment_name_is_decoded():
    [attachment] = parse_message(HU_OUTLOOK_REPLY).attachments
    assert attachment.filename == "Számla_ősz.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.data == b"%PDF-1.4\n"
    assert not attachment.inline


CS_HTML_ONLY_WITH_INLINE_IMAGE = crlf("""\
From: =?utf-8?Q?Jan_Nov=C3=A1k?= <jan.novak@zakaznik.cz>
To: podpora@targito.portal.test
Subject: =?utf-8?B?TsSbY28gbWkgbmVmdW5ndWpl?=
Date: Tue, 05 Mar 2024 14:02:00 +0000
Message-ID: <CAF1@mail.gmail.com>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>
<div>Dobrý den,</div><div>export &amp; import nefunguje, viz <a href="https://x.example/log">log</a>.</div>
<p><img src="cid:screen1@zakaznik.cz" alt="screenshot"></p>
<ul><li>krok 1</li><li>krok 2</li></ul>
<div>Jan</div>
<blockquote>Předchozí zpráva<br>druhý řádek</blockquote>
</body></html>
--rel
Content-Type: image/png
Content-ID: <screen1@zakaznik.cz>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel
Content-Type: application/pdf; name="=?utf-8?Q?p=C5=99=C3=ADloha.pdf?="
Content-Disposition: attachment; filename="=?utf-8?Q?p=C5=99=C3=ADloha.pdf?="
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--rel--
""")


def test_html_only_message_is_converted_to_text():
    parsed = parse_message(CS_HTML_ONLY_WITH_INLINE_IMAGE)
    assert parsed.subject == "Něco mi nefunguje"
    assert parsed.from_name == "Jan Novák"
    assert parsed.text_is_from_html
    assert parsed.text.splitlines()[:2] == ["Dobrý den,", "export & import nefunguje, viz log."]
    assert "alert" not in parsed.text and "color" not in parsed.text
    assert "- krok 1\n- krok 2" in parsed.text
    assert "> Předchozí zpráva\n> druhý řádek" in parsed.text
    assert strip_reply(parsed.text).visible == (
        "Dobrý den,\nexport & import nefunguje, viz log.\n\n- krok 1\n- krok 2\n\nJan"
    )


def test_inline_image_and_rfc2047_named_attachment():
    parsed = parse_message(CS_HTML_ONLY_WITH_INLINE_IMAGE)
    image, pdf = parsed.attachments
    assert image.content_id == "screen1@zakaznik.cz"
    assert image.inline and image.content_type == "image/png"
    assert image.filename == "image-1.png"  # no name given: a fallback name
    assert pdf.filename == "příloha.pdf" and not pdf.inline


PL_GMAIL_WITH_ATTACHMENT = crlf("""\
From: =?UTF-8?Q?Pawe=C5=82_Kowalski?= <pawel@klient.pl>
To: Exea Wsparcie <wsparcie@exea.portal.test>
Subject: =?UTF-8?Q?B=C5=82=C4=85d_faktury?=
Date: Tue, 5 Mar 2024 14:02:00 +0100
Message-ID: <CAPL123@mail.gmail.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="000mixed"

--000mixed
Content-Type: multipart/alternative; boundary="000alt"

--000alt
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Faktura ma z=C5=82=C4=85 kwot=C4=99.

wt., 5 mar 2024 o 14:02 Exea Wsparcie <wsparcie@exea.portal.test> napisa=C5=82(a=
):

> Dzie=C5=84 dobry,
--000alt
Content-Type: text/html; charset="UTF-8"

<div dir=3D"ltr">Faktura</div>
--000alt--
--000mixed
Content-Type: application/pdf; name="=?UTF-8?Q?za=C5=82=C4=85cznik=2Epdf?="
Content-Disposition: attachment; filename*=UTF-8''za%C5%82%C4%85cznik.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--000mixed--
""")


def test_gmail_soft_broken_polish_attribution_is_stripped():
    parsed = parse_message(PL_GMAIL_WITH_ATTACHMENT)
    assert parsed.subject == "Błąd faktury"
    assert parsed.from_name == "Paweł Kowalski"
    assert strip_reply(parsed.text).visible == "Faktura ma złą kwotę."
    assert [a.filename for a in parsed.attachments] == ["załącznik.pdf"]


FI_APPLE_MAIL = crlf("""\
From: Matti =?iso-8859-1?Q?Meik=E4l=E4inen?= <matti@asiakas.fi>
To: tuki@festum.portal.test
Subject: Re: [Festum #1234] Raportti ei aukea
Date: Tue, 5 Mar 2024 16:02:00 +0200
Message-Id: <A1B2C3@asiakas.fi>
Mime-Version: 1.0 (Mac OS X Mail 16.0)
X-Mailer: Apple Mail (2.3774)
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Kiitos, nyt toimii.

Lähetetty iPhonesta

> Festum Tuki <tuki@festum.portal.test> kirjoitti 5.3.2024 kello 14.02:
>
> Hei!
""")


def test_apple_mail_reply_in_finnish():
    parsed = parse_message(FI_APPLE_MAIL)
    assert parsed.from_name == "Matti Meikäläinen"
    assert parsed.date == datetime(2024, 3, 5, 14, 2, tzinfo=timezone.utc)
    result = strip_reply(parsed.text)
    assert result.visible == "Kiitos, nyt toimii."
    assert result.signature == "Lähetetty iPhonesta"


def test_unknown_and_misdeclared_charsets_do_not_crash():
    raw = crlf("From: a@b.example\nSubject: x\nContent-Type: text/plain; charset=x-klingon\n\n") + "Díky\r\n".encode(
        "utf-8"
    )
    assert parse_message(raw).text.startswith("Díky")
    raw = crlf("From: a@b.example\nSubject: x\nContent-Type: text/plain; charset=us-ascii\n\n") + "Köszönöm\r\n".encode(
        "latin-1"
    )
    parsed = parse_message(raw)
    assert parsed.text.startswith("Köszönöm") and not parsed.malformed
    raw = (
        crlf("From: a@b.example\nSubject: =?x-unknown?Q?Hi?= there\nContent-Type: text/plain; charset=utf-8\n\n")
        + b"bad \xff\xfe bytes\r\n"
    )
    parsed = parse_message(raw)
    assert "bad" in parsed.text and "there" in parsed.subject


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x01\x02garbage without headers",
        crlf(
            "From: broken <<<@@>\nTo: ,,,\nDate: not a date\nMessage-ID: <<>>\n"
            "Content-Type: multipart/mixed\n\nno boundary at all\n"
        ),
        crlf(
            'From: a@b.example\nContent-Type: multipart/alternative; boundary="x"\n\n'
            "--y\nContent-Type: text/plain\n\nnever starts\n"
        ),
        crlf(
            "From: a@b.example\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: base64\n\n!!!not base64!!!\n"
        ),
        crlf(
            "Subject: =?utf-8?B?broken?=\nFrom: =?utf-8?Q?=ZZ?= <x@y.example>\n"
            "Content-Type: application/pdf; name*=utf-8'xx'%ZZ%\n\n"
        ),
    ],
)
def test_malformed_messages_never_raise(raw):
    parsed = parse_message(raw)
    assert parsed.size == len(raw)


def test_structurally_broken_mime_is_flagged_and_kept():
    raw = crlf(
        "From: Anna <anna@ugyfel.hu>\nSubject: Segítség\nMessage-ID: <m1@ugyfel.hu>\n"
        "Content-Type: multipart/mixed\n\nA szöveg megmaradt.\n"
    )
    parsed = parse_message(raw)
    assert parsed.malformed
    assert "NoBoundaryInMultipartDefect" in parsed.malformed_reason
    assert parsed.from_address == "anna@ugyfel.hu" and parsed.message_id == "m1@ugyfel.hu"


def test_empty_message_is_malformed():
    parsed = parse_message(b"")
    assert parsed.malformed and parsed.malformed_reason == "empty message"


def test_naive_date_is_taken_as_utc_and_garbage_date_is_none():
    raw = crlf("From: a@b.example\nDate: Tue, 5 Mar 2024 14:02:00 -0000\n\nx\n")
    assert parse_message(raw).date == datetime(2024, 3, 5, 14, 2, tzinfo=timezone.utc)
    raw = crlf("From: a@b.example\nDate: yesterday-ish\n\nx\n")
    assert parse_message(raw).date is None


# --- auto-replies, bounces, no-reply senders ---------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "X-Autoreply: yes",
        "X-Autorespond: vacation",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: auto_reply",
        "Precedence: list",
        "X-Auto-Response-Suppress: All",
        "X-Auto-Response-Suppress: DR, OOF",
    ],
)
def test_auto_reply_headers(headers):
    raw = crlf(f"From: a@b.example\nSubject: Re: hello\n{headers}\n\nbody\n")
    parsed = parse_message(raw)
    assert parsed.is_auto_reply
    assert parsed.auto_reply_reason


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: [Flexinform #1234] Számlázási hiba",
        "Automatic reply: Login",
        "Automatikus válasz: [Flexinform #1234] Számlázási hiba",
        "Házon kívül: Számla",
        "Poissa toimistolta: [Festum #1234]",
        "Automaattinen vastaus: Raportti",
        "Automatická odpověď: Něco mi nefunguje",
        "Mimo kancelář: TG-12",
        "Odpowiedź automatyczna: Błąd faktury",
        "Poza biurem: Błąd faktury",
    ],
)
def test_out_of_office_subjects(subject):
    raw = (
        "From: a@b.example\r\nSubject: " + subject + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
    ).encode("utf-8")
    assert parse_message(raw).is_auto_reply


@pytest.mark.parametrize(
    "raw",
    [
        crlf("From: a@b.example\nSubject: Re: out of office printers are broken\n\nbody\n"),
        crlf("From: a@b.example\nSubject: Re: hello\nAuto-Submitted: no\n\nbody\n"),
    ],
)
def test_ordinary_mail_is_not_an_auto_reply(raw):
    assert not parse_message(raw).is_auto_reply


OWN_DSN = crlf("""\
From: Mail Delivery System <MAILER-DAEMON@mx.ugyfel.hu>
To: reply+t1234.abc@flexinform.portal.test
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"

--dsn
Content-Type: text/plain; charset=us-ascii

The mail system: <nincs@ugyfel.hu>: User unknown
--dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.ugyfel.hu
Final-Recipient: rfc822; nincs@ugyfel.hu
Action: failed
Status: 5.1.1
--dsn
Content-Type: text/rfc822-headers

From: Flexinform <support@flexinform.portal.test>
Message-ID: <notification-77@flexinform.portal.test>
Subject: [Flexinform #1234] Számlázási hiba
--dsn--
""")


def test_own_dsn_bounce():
    parsed = parse_message(OWN_DSN)
    assert parsed.is_bounce
    assert parsed.bounced_message_id == "notification-77@flexinform.portal.test"
    assert parsed.is_noreply_sender
    assert parsed.attachments == []  # report parts are machinery, not files


@pytest.mark.parametrize(
    "address",
    [
        "noreply@vendor.example",
        "no-reply@vendor.example",
        "do-not-reply@vendor.example",
        "donotreply@vendor.example",
        "mailer-daemon@vendor.example",
        "postmaster@vendor.example",
        "notifications-noreply@vendor.example",
    ],
)
def test_noreply_senders(address):
    assert parse_message(crlf(f"From: {address}\n\nx\n")).is_noreply_sender


@pytest.mark.parametrize("address", ["anna@ugyfel.hu", "replyto@x.example", "norman@x.example"])
def test_ordinary_senders_are_not_noreply(address):
    assert not parse_message(crlf(f"From: {address}\n\nx\n")).is_noreply_sender


# --- public fixtures ---------------------------------------------------------------------------

BOUNCES = [
    "mikel-mail/multipart_report_multiple_status.eml",
    "mikel-mail/report_530.eml",
    "python-cpython/msg_16.eml",
    "sisimai-set-of-emails/lhost-exchange2007-01.eml",
    "sisimai-set-of-emails/lhost-exim-01.eml",
    "sisimai-set-of-emails/lhost-gmail-01.eml",
    "sisimai-set-of-emails/lhost-office365-01.eml",
    "sisimai-set-of-emails/lhost-outlook-01.eml",
    "sisimai-set-of-emails/lhost-postfix-01.eml",
    "sisimai-set-of-emails/lhost-qmail-01.eml",
    "sisimai-set-of-emails/rfc3464-01.eml",
]


@pytest.mark.parametrize("name", BOUNCES)
def test_public_bounces_are_bounces(name):
    parsed = parse_message(load(name))
    assert parsed.is_bounce
    assert parsed.is_noreply_sender


@pytest.mark.parametrize(
    ("name", "message_id"),
    [
        ("mikel-mail/report_530.eml", "200712232303.lBNN3jDq002941@mail12.rrrr.com.au"),
        ("python-cpython/msg_16.eml", "002001c144a6$8752e060$56104586@oxy.edu"),
        ("sisimai-set-of-emails/rfc3464-01.eml", "E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org"),
    ],
)
def test_bounced_message_id_from_the_returned_headers(name, message_id):
    assert parse_message(load(name)).bounced_message_id == message_id


@pytest.mark.parametrize(
    "name",
    [
        "gitlabhq-gitlabhq/auto_reply.eml",
        "sisimai-set-of-emails/rfc3834-01.eml",
        "sisimai-set-of-emails/rfc3834-02.eml",
        "sisimai-set-of-emails/rfc3834-03.eml",
        "sisimai-set-of-emails/rfc3834-04.eml",
        "sisimai-set-of-emails/rfc3834-05.eml",
        "sisimai-set-of-emails/rfc3834-06.eml",
    ],
)
def test_public_auto_replies_are_auto_replies(name):
    parsed = parse_message(load(name))
    assert parsed.is_auto_reply
    assert not parsed.is_bounce


def test_forwarded_original_as_attachment_is_not_a_bounce():
    parsed = parse_message(load("sisimai-set-of-emails/is-not-bounce-02.eml"))
    assert not parsed.is_bounce and not parsed.is_auto_reply
    assert [a.content_type for a in parsed.attachments] == ["message/rfc822"]


@pytest.mark.parametrize(
    ("name", "filename"),
    [
        ("mikel-mail/attachment_nonascii_filename.eml", "ciële.txt"),
        ("mikel-mail/attachment_with_base64_encoded_name.eml", "This is a test.pdf"),
        ("mikel-mail/attachment_with_encoded_name.eml", "01 Quien Te Dij\ufffdat. Pitbull.mp3"),
        ("mikel-mail/attachment_with_unquoted_name.eml", "This is a test.txt"),
        ("django-helpdesk/blank-body-with-attachment.eml", "baf"),
    ],
)
def test_public_attachment_names(name, filename):
    assert [a.filename for a in parse_message(load(name)).attachments] == [filename]


def test_attached_message_is_kept_whole_as_eml():
    # mail's suite counts the attached message and the PDF inside it; we keep the attached
    # message as one .eml file (the PDF stays inside it, nothing is lost).
    [attached] = parse_message(load("mikel-mail/attachment_message_rfc822.eml")).attachments
    assert attached.filename == "ForwardedMessage.eml"
    inner = parse_message(attached.data)
    assert [len(a.data) for a in inner.attachments] == [1026]


def test_rfc6532_utf8_headers():
    parsed = parse_message(load("mikel-mail/utf8_headers.eml"))
    assert parsed.subject == "Säying Hello"
    assert parsed.from_name == "Jöhn Doe"
    assert parsed.from_address == "jdöe@mächine.example"
    assert parsed.to == ["märy@exämple.net"]


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("django-helpdesk/all-special-chars.eml", "Testovácí email"),
        ("django-helpdesk/quoted_printable.eml", "Český test"),
    ],
)
def test_public_czech_messages_text(name, subject):
    parsed = parse_message(load(name))
    assert parsed.subject == subject
    expected = (FIXTURES / name.replace(".eml", ".expected.txt")).read_text(encoding="utf-8")
    assert parsed.text.strip() == expected.strip()


def test_non_decodable_utf8_is_replaced_not_fatal():
    parsed = parse_message(load("django-helpdesk/utf-nondecodable.eml"))
    assert parsed.subject == "Fwd: Cyklozaměstnavatel - změna vyhodnocení"
    assert "Díky moc!" in parsed.text
    # django-helpdesk's assertion is on the HTML alternative, where the phrase lives.
    assert "prosazuje lepší" in html_to_text(parsed.html)


def test_forwarded_message_text_keeps_the_forward_as_quoted():
    parsed = parse_message(load("django-helpdesk/forwarded-message.eml"))
    result = strip_reply(parsed.text)
    assert result.visible == "This is email body"
    assert "Hello there!" in result.quoted


def test_html_to_text_basics():
    html = (
        "<p>Hello&nbsp;<a href='https://x.example'>world</a> &amp; you</p>"
        "<p>Second</p><hr><style>.a{}</style><blockquote><p>quoted</p>"
        "<blockquote>deeper</blockquote></blockquote>"
    )
    text = html_to_text(html)
    assert text.splitlines() == ["Hello world & you", "", "Second", "", "_" * 32, "", "> quoted", ">", "> > deeper"]
