"""What mail clients write around a quoted reply, per language, as data for the reply stripper
(``app.mailin.reply``): attribution lines ("On … wrote:", "… írta:", "… kirjoitti:"), "Original
Message" and forwarded-message separators, Outlook header labels, and signature lines ("Sent from
my iPhone", "Odesláno z iPhonu"…).

A new language or mail client is usually a word added here, with a fixture in
``tests/mailin/test_reply_stripping.py``; the stripping rules themselves stay in ``reply.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words that introduce an attribution line ("On …", "Am …", "Dne …", "W dniu …").
ATTRIBUTION_START_RE = re.compile(r"^(?:on|at|am|le|den|dne|dnia|dňa|w dniu|el|il|op|em|в)\b", re.IGNORECASE)
# A weekday abbreviation followed by a date: "pe 20. lokakuuta", "czw., 19 gru", "su, 2025-09-28".
WEEKDAY_DATE_START_RE = re.compile(r"^[^\W\d_]{1,4}\.?,?\s+\d")
VERBS = (
    r"wrote|writes|said|schrieb|a écrit|skrev|escribió|ha scritto|scrisse|schreef|escreveu"
    r"|написал(?:а)?|пишет|napsal(?:\(a\)|a)?|napísal(?:\(a\)|a)?|napisał(?:\(a\)|a)?|pisze"
    r"|kirjoitti|(?:ezt )?írta"
)
# "<who> <verb>:" with the verb at the end, or followed by a date/parenthesis only:
#   "… wrote:", "… ezt írta (időpont: …):", "… kirjoitti 28/10/2021 12.46:",
#   "… schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:".
VERB_AT_END_RE = re.compile(
    rf"\b(?:{VERBS})(?:\s*\([^()]*\)|\s+(?:am|on|le|dne|klo)\b(?:[^:]|:\d)*|\s+\d(?:[^:]|:\d)*)?"
    r"\s*:\s*$",
    re.IGNORECASE,
)
# After a start word, the verb may be followed by the author ("Den … skrev Jeff <…>:").
VERB_ANYWHERE_RE = re.compile(rf"\b(?:{VERBS})\b.*:\s*$", re.IGNORECASE)
VERB_RE = re.compile(rf"\b(?:{VERBS})(?:\b|$)", re.IGNORECASE)
TIME_RE = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
DATE_RE = re.compile(r"\b\d{1,4}[./-]\s?\d{1,2}\b|\b(?:19|20)\d{2}\b")
# Gmail's date-first form: "2017-11-24 16:32 GMT+01:00 Name <addr>:".
ISO_DATE_ATTRIBUTION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}\b.*[@<].*:\s*$")
# Apple Mail in Czech/Polish/Hungarian writes no verb: "5. 3. 2024 v 14:02, Name <addr>:".
DATE_FIRST_ADDRESS_RE = re.compile(r"^\d.*\b\d{1,2}[:.]\d{2}\b.*<[^<>@\s]+@[^<>\s]+>\s*:\s*$")

ORIGINAL_MESSAGE_RE = re.compile(
    r"^[\s>]*-{2,}\s*(?:original message|original e-mail|ursprüngliche nachricht"
    r"|eredeti üzenet|eredeti levél|alkuperäinen viesti|původní zpráva|původní e-mail"
    r"|oryginalna wiadomość|wiadomość oryginalna|message d'origine|mensaje original"
    r"|messaggio originale|oprindelig besked|opprinnelig melding|ursprungligt meddelande"
    r"|oorspronkelijk bericht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
FORWARD_RE = re.compile(
    r"^[\s>]*(?:-{2,}\s*(?:forwarded message|forwarded e-mail|továbbított üzenet|továbbított levél"
    r"|välitetty viesti(?:\s*/\s*fwd\.\s*msg)?|edelleenlähetetty viesti|přeposlaná zpráva"
    r"|přeposlaný e-mail|przekazana wiadomość|wiadomość przekazana dalej"
    r"|wiadomość przesłana dalej|treść przekazanej wiadomości|weitergeleitete nachricht"
    r"|message transféré)\s*-{2,}"
    r"|begin forwarded message:|továbbított levél kezdete:|välitetty viesti alkaa:"
    r"|začátek přeposílané zprávy:|początek przekazywanej wiadomości:"
    r"|anfang der weitergeleiteten nachricht:|début du message réexpédié :?)\s*$",
    re.IGNORECASE,
)
RULE_RE = re.compile(r"^\s*_{10,}\s*$")

FROM_LABELS = (
    "from",
    "von",
    "de",
    "från",
    "fra",
    "van",
    "da",
    "od",
    "feladó",
    "lähettäjä",
    "nadawca",
    "от",
)
OTHER_LABELS = (
    "sent",
    "date",
    "to",
    "cc",
    "bcc",
    "subject",
    "reply-to",
    "envoyé",
    "envoyé le",
    "à",
    "objet",
    "gesendet",
    "an",
    "betreff",
    "datum",
    "kopie",
    "skickat",
    "till",
    "ämne",
    "sendt",
    "til",
    "emne",
    "verzonden",
    "aan",
    "onderwerp",
    "dátum",
    "elküldve",
    "címzett",
    "másolat",
    "másolatot kap",
    "tárgy",
    "lähetetty",
    "päivämäärä",
    "päiväys",
    "vastaanottaja",
    "kopio",
    "aihe",
    "odesláno",
    "komu",
    "předmět",
    "wysłano",
    "data",
    "do",
    "dw",
    "temat",
    "adresat",
    "kopia",
    "отправлено",
    "кому",
    "тема",
    "копия",
    "дата",
)


def label_re(labels: Iterable[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(rf"^\s*[*_]?(?:{names})[*_]?\s*:", re.IGNORECASE)


FROM_HEADER_RE = label_re(FROM_LABELS)
ANY_HEADER_RE = label_re(FROM_LABELS + OTHER_LABELS)

# --- signatures -----------------------------------------------------------------------------

SIGNATURE_DELIMITER_RE = re.compile(r"^-- ?$")
DASH_SIGNOFF_RE = re.compile(r"^-[A-ZÀ-Ž][\w.'-]*(?: [A-ZÀ-Ž][\w.'-]*){0,3}$")
DEVICE_WORDS = (
    r"iphone|ipad|ipod|android|mobile|cell|phone|smartphone|device|samsung|galaxy|htc|nokia"
    r"|blackberry|huawei|xiaomi|pixel|tablet|pc|laptop|windows|mac"
)
PHONE_SIGNATURE_RES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # English: "Sent from my iPhone", "Sent with Sparrow", "Sent via mobile", "Sent from Mailbox"
        r"^sent (?:from|with|via|using|by|on) (?:my |a |an |the )?[^,;!?]{1,50}?[.!]?$",
        rf"^sent from my [^,.]*\b(?:{DEVICE_WORDS})\b",
        r"^(?:get|download) outlook for \w+",
        r"^from my (?:{DEVICE_WORDS})\b".replace("{DEVICE_WORDS}", DEVICE_WORDS),
        r"^\w+ from (?:my )?mobile$",
        # Hungarian: "iPhone-ról küldve", "Az iPhone-omról küldve", "Küldve Androidról"
        r"^(?:az )?\S*(?:iphone|ipad|android|samsung|galaxy|mobil|telefon|outlook)\S*\s.*küldve$",
        r"^(?:az )?\S*(?:iphone|ipad|android)\S* küldve$",
        r"^küldve (?:az? )?\S*(?:iphone|ipad|android|mobil|telefon|outlook)",
        # Finnish: "Lähetetty iPhonesta", "Lähetetty Android-laitteesta", "Lähetetty Outlookista"
        r"^lähetetty \S*(?:iphone|ipad|android|puhelim|mobiili|outlook|laitteesta|sähköpostista)",
        # Czech: "Odesláno z iPhonu", "Odesláno z mého telefonu", "Odesláno z aplikace Outlook"
        r"^odesláno z (?:mého |mojí |aplikace )?\S*(?:iphon|ipad|android|telefon|mobil|outlook"
        r"|samsung|pošta|tabletu|zařízení)",
        # Polish: "Wysłane z iPhone'a", "Wysłane z mojego smartfona", "Wysłano z aplikacji Outlook"
        r"^wysłan[eo] z (?:mojego |mojej |aplikacji )?\S*(?:iphone|ipad|android|telefon|smartfon"
        r"|komórk|outlook|samsung|galaxy|poczt|urządzenia|tabletu)",
        # Other languages in the public fixtures.
        r"^envoyé (?:de|depuis) (?:mon|ma) ",
        r"^von meinem .+ gesendet\.?$",
        r"^diese nachricht wurde von meinem .+ gesendet\.?$",
        r"^gesendet (?:von|mit) (?:meinem )?\S+",
        r"^verzonden (?:met|vanaf|van) ",
        r"^(?:sendt|skickat) fr[aå]n? min ",
        r"^從我的 .+傳送$",
        r"^发自我的",
    )
)
