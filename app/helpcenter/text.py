"""Text helpers of the help center: folding for search, article Markdown, highlighted snippets."""

from __future__ import annotations

import re
import unicodedata

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

# Letters without a Unicode decomposition that people still type without their stroke.
_SPECIAL = {
    "ł": "l",
    "Ł": "l",
    "đ": "d",
    "Đ": "d",
    "ø": "o",
    "Ø": "o",
    "ß": "s",
    "æ": "a",
    "Æ": "a",
    "ı": "i",
    "ħ": "h",
    "ŧ": "t",
    "œ": "o",
    "Œ": "o",
}
_WORD = re.compile(r"[^\W_]+")


def _fold_char(char: str) -> str:
    if char in _SPECIAL:
        return _SPECIAL[char]
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base if len(base) == 1 else char


def fold(text: str | None) -> str:
    """Lower case without diacritics, one character for one ("Zgłoszenie" → "zgloszenie"), so that
    positions in the folded text are positions in the original (snippets highlight the original)."""
    return "".join(_fold_char(c) for c in (text or ""))


def terms(query: str | None, limit: int = 8) -> list[str]:
    """The folded words of a search query (letters and digits only: safe in FTS5 and tsquery)."""
    return _WORD.findall(fold(query or ""))[:limit]


# Article bodies: the comment Markdown plus headings, tables and images (only the article's own files).
_markdown = MarkdownIt("commonmark", {"breaks": True, "html": False, "linkify": True}).enable(["table", "linkify"])
_ARTICLE_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "blockquote",
    "a",
    "h2",
    "h3",
    "h4",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "hr",
}


def article_html(text: str | None, files_prefix: str = "") -> Markup:
    """An article body rendered as Markdown and sanitized by nh3; images only from ``files_prefix``."""
    if not text:
        return Markup("")
    html = _markdown.render(text).replace("<h1>", "<h2>").replace("</h1>", "</h2>")

    def keep(tag, attribute, value):
        if tag == "img" and attribute == "src":
            return value if files_prefix and value.startswith(files_prefix) else None
        return value

    return Markup(
        nh3.clean(
            html,
            tags=_ARTICLE_TAGS,
            attributes={"a": {"href"}, "img": {"src", "alt"}},
            link_rel="nofollow noopener noreferrer",
            url_schemes={"http", "https", "mailto"},
            attribute_filter=keep,
        )
    )


def plain(text: str | None) -> str:
    """Markdown reduced to its words (for snippets): markup characters become spaces."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text or "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*`~]+", "", text)  # emphasis and code marks hug their words: drop them
    return re.sub(r"[#>|]+", " ", text)


def highlight(text: str, words: list[str], *, width: int = 0) -> Markup:
    """``text`` escaped, with every word starting with one of ``words`` (folded) in ``<mark>``.

    With ``width``, only a window of about that many characters around the first match."""
    text = re.sub(r"\s+", " ", text or "").strip()
    folded = fold(text)
    spans = []
    for match in _WORD.finditer(folded):
        if any(match.group().startswith(w) for w in words):
            spans.append((match.start(), match.end()))
    start, end = 0, len(text)
    if width and len(text) > width:
        first = spans[0][0] if spans else 0
        start = max(0, first - width // 3)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first else start
        end = min(len(text), start + width)
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > first else end
    out, position = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(escape(text[position:s]))
        out.append(Markup("<mark>") + escape(text[s:e]) + Markup("</mark>"))
        position = e
    out.append(escape(text[position:end]))
    result = Markup("").join(out)
    if start > 0:
        result = Markup("… ") + result
    if end < len(text):
        result = result + Markup(" …")
    return result


def within_one_typo(word: str, candidate: str) -> bool:
    """Damerau-Levenshtein distance ≤ 1 (≤ 2 for words of 8+ letters), or ``candidate`` starts with a
    word within that distance: "zgloszenei", "zgoszenie" and "zglosznie" all find "zgłoszenie"."""
    limit = 2 if len(word) >= 8 else 1
    if abs(len(candidate) - len(word)) > limit and not candidate.startswith(word[:3]):
        return False
    return _distance(word, candidate[: len(word) + limit], limit) <= limit or _distance(word, candidate, limit) <= limit


def _distance(a: str, b: str, limit: int) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
