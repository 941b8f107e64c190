"""Uploads: a body limit checked before anything is read, file names that are safe everywhere, and a
content type read from the bytes, never taken from the client (defect 11)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.storage.files import is_active_content, safe_filename, sniff_content_type
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Attachment, Comment
from tests.conftest import portal_url, translated
from tests.tickets.test_conversation import request_at  # noqa: F401 (fixture)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.mark.parametrize(
    "given, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("a\x00b.txt", "ab.txt"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ("right\u202eexe.pdf", "rightexe.pdf"),  # no bidi override turning the name around
        ("CON.txt", "_CON.txt"),
        ("con", "_con"),
        ("LPT9.tar.gz", "_LPT9.tar.gz"),
        ("NUL", "_NUL"),
        ("COM1.", "_COM1"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("report.pdf. . .", "report.pdf"),
        ("   ", "file"),
        ("", "file"),
        (None, "file"),
        ("...", "file"),
        ('what?<x>:"|*.doc', "what__x_____.doc"),
        ("évkönyv–2026.pdf", "évkönyv–2026.pdf"),
        ("Příloha žádosti.docx", "Příloha žádosti.docx"),
        ("Zażółć gęślą jaźń.xlsx", "Zażółć gęślą jaźń.xlsx"),
        ("Hyväksyntä.ÄÖ.txt", "Hyväksyntä.ÄÖ.txt"),
    ],
)
def test_file_names_are_normalised_and_stay_readable(given, expected):
    assert safe_filename(given) == expected


def test_long_names_are_shortened_keeping_the_extension():
    name = safe_filename("á" * 400 + ".pdf")
    assert name.endswith(".pdf") and len(name) <= 200 and name.startswith("ááá")


@pytest.mark.parametrize(
    "head, claimed_name, expected",
    [
        (PNG, "picture.png", "image/png"),
        (HTML, "picture.png", "text/html"),
        (
            b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "logo.png",
            "image/svg+xml",
        ),
        (b"%PDF-1.7\n...", "x.txt", "application/pdf"),
        (b"name;amount\nKiss;12\n", "export.csv", "text/csv"),
        ("Szia, ez egy szöveg.".encode(), "jegyzet", "text/plain"),
        (b"\x00\x01\x02\x03 binary", "data.png", "application/octet-stream"),
    ],
)
def test_the_content_type_is_read_from_the_bytes(head, claimed_name, expected):
    assert sniff_content_type(head, claimed_name) == expected


def test_active_types_are_recognised():
    assert all(
        is_active_content(t)
        for t in (
            "text/html",
            "image/svg+xml",
            "application/xml",
            "text/javascript",
            "application/xhtml+xml; charset=utf-8",
        )
    )
    assert not any(is_active_content(t) for t in ("image/png", "application/pdf", "text/plain"))


def _attachments(app, tenant):
    with app.app_context(), tenant_scope(tenant.id):
        return [
            (a.id, a.filename, a.content_type) for a in db.session.scalars(select(Attachment).order_by(Attachment.id))
        ]


def _comment(client, ref, files):
    return client.post(
        portal_url("festum", f"/requests/{ref}/comments"),
        data={"body": "Liitteitä", "files": files},
        content_type="multipart/form-data",
    )


def test_an_html_page_sent_as_a_png_is_stored_as_html_and_only_ever_downloaded(app, client, request_at, login):
    tenant, ref = request_at("festum")
    login("festum", "customer@example.com")
    response = _comment(
        client, ref, [(io.BytesIO(HTML), "../../kuva.png", "image/png"), (io.BytesIO(PNG), "CON.png", "text/html")]
    )
    assert response.status_code == 302
    (html_id, html_name, html_type), (png_id, png_name, png_type) = _attachments(app, tenant)
    assert (html_name, html_type) == ("kuva.png", "text/html")  # the client's image/png is ignored
    assert (png_name, png_type) == ("_CON.png", "image/png")  # and so is its text/html
    download = client.get(portal_url("festum", f"/requests/{ref}/attachments/{html_id}"))
    assert download.status_code == 200 and download.data == HTML
    assert download.mimetype == "text/html"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_a_readable_unicode_name_survives_upload_and_download(app, client, request_at, login):
    tenant, ref = request_at("festum")
    login("festum", "customer@example.com")
    assert (
        _comment(client, ref, [(io.BytesIO(b"%PDF-1.4 ..."), "évkönyv–2026.pdf. . .", "application/pdf")]).status_code
        == 302
    )
    [(attachment_id, name, content_type)] = _attachments(app, tenant)
    assert (name, content_type) == ("évkönyv–2026.pdf", "application/pdf")
    disposition = client.get(portal_url("festum", f"/requests/{ref}/attachments/{attachment_id}")).headers[
        "Content-Disposition"
    ]
    assert "filename*=UTF-8''%C3%A9vk%C3%B6nyv%E2%80%932026.pdf" in disposition
    assert re.search(r'filename="?[^";]*2026\.pdf', disposition)


def test_a_body_over_the_limit_is_refused_before_it_is_read(app, client, request_at, login):
    tenant, ref = request_at("festum")
    login("festum", "customer@example.com")
    assert app.config["MAX_CONTENT_LENGTH"] == 50 * 1024 * 1024  # the default: a limit is always set
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = _comment(client, ref, [(io.BytesIO(b"x" * (2 * 1024 * 1024)), "iso.bin", "application/octet-stream")])
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "<h1>" in page
    assert (
        translated(
            app,
            "fi",
            "The form and its files together may be at most %(size)d MB. Nothing was saved: go "
            "back and send fewer or smaller files.",
            size=1,
        )
        in page
    )  # in the customer's language
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
