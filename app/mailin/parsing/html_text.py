"""HTML bodies as readable plain text, safely: no markup survives, quotes keep their ``>`` prefixes
so that reply stripping sees them, and Outlook's habits are undone.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser


_SKIPPED_TAGS = {"script", "style", "head", "title", "template", "noscript", "xml", "svg", "object"}


_BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
}


_PARAGRAPH_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre"}


_VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"}


# Outlook's plain-text rendering of its reply separator; reply stripping recognises it.
_RULE_LINE = "_" * 32


class _TextExtractor(HTMLParser):
    """Collects text as lines, each with the ``<blockquote>`` depth it appeared at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current = ""
        self.depth = 0
        self.skip = 0
        self.pre = 0
        self.outlook_lines: list[bool] = []

    # line bookkeeping
    def _flush(self) -> None:
        text = self.current.rstrip()
        if text.strip():
            self.lines.append((self.depth, text.lstrip() if not self.pre else text))
        self.current = ""

    def _break(self) -> None:
        self._flush()

    def _paragraph(self) -> None:
        self._flush()
        if self.lines and self.lines[-1][1] != "":
            self.lines.append((self.depth, ""))

    # parser callbacks
    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        if tag in _SKIPPED_TAGS:
            if tag not in _VOID_TAGS:
                self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self._break()
        elif tag == "hr":
            self._break()
            self.lines.append((self.depth, _RULE_LINE))
        elif tag == "blockquote":
            self._paragraph()
            self.depth += 1
        elif tag == "p" and _is_outlook_line(attrs):
            self.outlook_lines.append(True)
            self._break()
        elif tag in _PARAGRAPH_TAGS:
            if tag == "p":
                self.outlook_lines.append(False)
            self._paragraph()
            if tag == "pre":
                self.pre += 1
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "li":
                self.current = "- "
        elif tag in ("td", "th") and self.current.strip():
            self.current += " "

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag.lower() in _SKIPPED_TAGS and tag.lower() not in _VOID_TAGS:
            self.skip = max(0, self.skip - 1)

    def handle_endtag(self, tag):
        tag = tag.lower()
        if tag in _SKIPPED_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "blockquote":
            self._paragraph()
            self.depth = max(0, self.depth - 1)
        elif tag == "p" and self.outlook_lines and self.outlook_lines.pop():
            self._break()
        elif tag in _PARAGRAPH_TAGS:
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self._paragraph()
        elif tag in _BLOCK_TAGS:
            self._break()

    def handle_data(self, data):
        if self.skip:
            return
        data = data.replace("\xa0", " ")
        if self.pre:
            parts = data.split("\n")
            for index, piece in enumerate(parts):
                if index:
                    self._break()
                self.current += piece
            return
        data = re.sub(r"[ \t\r\n\f]+", " ", data)
        if not self.current.strip():
            data = data.lstrip()
        self.current += data

    def text(self) -> str:
        self._flush()
        while self.lines and not self.lines[-1][1]:
            self.lines.pop()
        rendered: list[str] = []
        for depth, line in self.lines:
            prefix = "> " * depth
            rendered.append((prefix + line).rstrip() if line else prefix.rstrip())
        text = "\n".join(rendered)
        text = re.sub(r"\n(?:[ >]*\n){2,}", "\n\n", text)  # at most one empty line in a row
        return text.strip("\n")


def _is_outlook_line(attrs) -> bool:
    """Outlook writes every line as ``<p class=MsoNormal>``: treat those as plain lines."""
    classes = dict(attrs).get("class") or ""
    return "msonormal" in classes.lower()


def html_to_text(html: str) -> str:
    """Convert an HTML body into readable plain text, safely (no markup survives).

    Block elements become line breaks, ``<blockquote>`` content is kept with ``"> "`` line
    prefixes (so reply stripping sees it as a quote), links keep their text, ``<hr>`` becomes an
    Outlook-style rule line, scripts/styles/head are dropped and entities are decoded.
    """
    if not html:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this is a last resort
        stripped = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", html)
        stripped = re.sub(r"(?s)<[^>]*>", " ", stripped)
        return re.sub(r"[ \t]+", " ", unescape(stripped)).strip()
    return parser.text()
