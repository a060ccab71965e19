"""Text from outside (feeds, APIs, the command line) is data, never markup.

``clean_line`` removes what a reader cannot see; ``literal_markdown`` turns plain
text into Markdown that shows exactly it; ``escape_title``/``unescape_title`` write
a plain title onto a line of the dialect and read it back; ``dialect_url`` writes a
link the dialect reads back whole. See docs/feeds.md, "Text from outside is data".
"""

from __future__ import annotations

import re

from composer.support.text import URL_RE, trim_url

# Characters a reader cannot see that can still change what is shown: bidirectional
# controls (U+202E turns "gpj.exe" around), zero-width and other invisible format
# characters, Hangul fillers, tag characters, and C0/C1 controls. ZWNJ and ZWJ
# (U+200C/U+200D) stay: scripts and emoji sequences need them.
INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u180e"
    "\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0"
    "\ufff9-\ufffb\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def clean_line(text: str, limit: int = 0) -> str:
    """Outside text as one line: invisible characters removed (:data:`INVISIBLE`),
    whitespace folded, at most ``limit`` characters (cut with …) when ``limit``."""
    line = " ".join(INVISIBLE.sub("", text).split())
    if limit and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def text_of(value: str, kind: str = "text/html") -> str:
    """One line of plain text from a field of a feed or an API answer: HTML (``kind``
    anything but text/plain) reduced by nh3 to its text (no tags; script and style
    dropped with their content), invisible characters removed (:func:`clean_line`)."""
    if kind != "text/plain":
        import html

        import nh3

        clean = nh3.clean(value or "", tags=set(), clean_content_tags={"script", "style"})
        value = html.unescape(clean)
    return clean_line(value or "")


# What makes plain text live Markdown somewhere: CommonMark inline syntax (anywhere),
# link-ish words a linkifier picks up (scheme://, www., domain.tld), and, at the start
# of a line, block markers of CommonMark and of the dialect.
_INLINE = re.compile(r"([\\`*_\[\]<~])|&(?=#?\w+;)")
# a scheme's colon is escaped whatever comes before it (``见https://``, ``_https://``):
# the bare-URL rule of every Markdown output links ``https://`` after any character
_SCHEME = re.compile(r"(?i)([a-z][a-z0-9+.\-]*):(?=//)")
_MAILTO = re.compile(r"(?i)(mailto):")
# ``//host/path``: linkifiers take it for a link without a scheme
_SLASHES = re.compile(r"(?<=/)/(?=[^/\s])")
_WWW = re.compile(r"(?i)\b(www)\.")
_DOMAIN_DOT = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_])")
_BLOCK_START = re.compile(r"[#>+\-=]")
_NUMBERED = re.compile(r"(\d{1,9})([.)、．])")
_LABEL_COLON = re.compile(r"([^:：\n\\]{1,20}?)[ \t]*([:：])")
# the colon of a URL's scheme in text composer writes into the dialect: an entity,
# which every reader of issue.md (the fidelity check too) decodes back into a URL
URL_COLON = "&#58;"
# what no section heading holds: an escape, an entity, sentence punctuation
_NO_HEADING = re.compile(r"[\\.,;!?。，；！？]|&#")
_ENTITY = {"、": "&#12289;", "．": "&#65294;", "：": "&#65306;", "《": "&#12298;"}


def defuse_links(text: str, colon: str = "\\:") -> str:
    """Markdown ``text`` with its URLs, ``www.`` names and domain names escaped so no
    linkifier links them (``https\\:/\\/x.org``, ``x\\.org``, ``/\\/host``); readers see
    them unchanged.
    ``colon`` is what a scheme's colon becomes (``&#58;`` works too)."""
    text = _SCHEME.sub(lambda m: m.group(1) + colon, text)
    text = _MAILTO.sub(lambda m: m.group(1) + colon, text)
    text = _SLASHES.sub(r"\\/", text)
    text = _WWW.sub(r"\1\\.", text)
    return _DOMAIN_DOT.sub(r"\\.", text)


def literal_markdown(text: str) -> str:
    """Markdown (and dialect) that reads back as exactly ``text``, nothing of it markup.

    For text from outside (feed summaries, notes from the command line) that goes
    into an item's Markdown ``text``: inline syntax is backslash-escaped, URLs
    (``https&#58;//``) and domain names (``x\\.org``) cannot be linked, and no line
    starts a heading, quote, list, code block, labelled turn (``Q:``, ``研究员1：``),
    source line or paper title, or is a bare section heading (a short line ends in
    an invisible ``&#32;``). Lines are stripped of surrounding whitespace; blank
    lines still separate paragraphs.
    """
    lines = []
    for line in text.split("\n"):
        line = _INLINE.sub(lambda m: "\\" + (m.group(1) or "&"), line.strip())
        line = defuse_links(line, URL_COLON)
        line = _guard_start(line)
        if line and len(line) <= 40 and not _NO_HEADING.search(line):
            line += "&#32;"  # a short line could be a bare section heading (论文分享)
        lines.append(line)
    return "\n".join(lines)


def _guard_start(line: str) -> str:
    """``line`` (already escaped inline) with nothing at its start that opens a block."""
    if not line:
        return line
    if _BLOCK_START.match(line):
        return "\\" + line
    if line[0] == "《":
        return _ENTITY["《"] + line[1:]
    m = _NUMBERED.match(line)
    if m:
        mark = m.group(2)
        return m.group(1) + _ENTITY.get(mark, "\\" + mark) + line[m.end() :]
    m = _LABEL_COLON.match(line)
    if m:
        colon = m.group(2)
        return line[: m.start(2)] + _ENTITY.get(colon, "\\" + colon) + line[m.end() :]
    return line


# Titles in the dialect (a link list's ``- title: url``, a paper's ``1. title url``):
# a backslash before ASCII punctuation (or ``：—–``) makes that character plain text.
TITLE_PUNCT = r"!-/:-@\[-`{-~：—–"
_TITLE_ESCAPE = re.compile(rf"\\([{TITLE_PUNCT}])")
_TITLE_BACKSLASH = re.compile(rf"\\(?=[{TITLE_PUNCT}]|$)")
_TITLE_URL = re.compile(r"(?i)(https?):(?=//)")
_TITLE_ENTITY = re.compile(r"&(?=#?\w+;)")  # "&amp;" in a title: five characters
_TITLE_UNESCAPE = re.compile(rf"\\([{TITLE_PUNCT}])|&#58;")


def escape_title(title: str) -> str:
    """A plain title (or source name) as the dialect writes it on one line: parsing
    it back (:func:`unescape_title`) gives ``title`` again, with no URL taken from it."""
    line = " ".join(part.strip() for part in title.splitlines()).strip()
    line = _TITLE_BACKSLASH.sub(r"\\\\", line)
    line = _TITLE_ENTITY.sub(r"\\&", line)
    line = _TITLE_URL.sub(lambda m: m.group(1) + URL_COLON, line)
    if strip_title_end(line) != line:  # a trailing ":" or " -" reads as the separator
        line = line[:-1] + "\\" + line[-1]
    return line


def unescape_title(text: str) -> str:
    """A title as written in the dialect -> the plain title (``\\:`` and ``&#58;`` -> ``:``)."""
    if "\\" not in text and URL_COLON not in text:
        return text
    return _TITLE_UNESCAPE.sub(lambda m: m.group(1) or ":", text)


# what the dialect strips after a title, before its URL: spaces, colons, dashes
_TITLE_END = re.compile(r"(\s+[-—–]+)?[\s:：]*$|\s+[-—–]+$")


def strip_title_end(title: str) -> str:
    """``title`` without the separator before its URL (``: ``, `` - ``); characters
    escaped with a backslash stay."""
    last = max((m.end() for m in _TITLE_ESCAPE.finditer(title)), default=0)
    head, tail = title[:last], title[last:]
    while (shorter := _TITLE_END.sub("", tail)) != tail:
        tail = shorter
    return head + tail


def _url_char(ch: str) -> bool:
    """May ``ch`` stand as it is in a bare URL: one the dialect reads as part of a URL
    and no invisible character (a bidi control turns ``gpj.exe`` around)?"""
    return bool(URL_RE.fullmatch("https://" + ch)) and not INVISIBLE.match(ch)


def dialect_url(url: str) -> str:
    """``url`` written so the dialect reads it back whole: characters a bare URL
    cannot hold (spaces, quotes, CJK ...) and invisible ones percent-encoded, and so
    is a last character that would be taken for the sentence's punctuation."""
    from urllib.parse import quote

    url = "".join(ch if _url_char(ch) else quote(ch, safe="") for ch in url)
    _, slash, path = url.partition("://")[2].partition("/")
    if slash and ("[" in path or "]" in path):  # x](https://other: a Markdown link's end
        url = url[: len(url) - len(path)] + path.replace("[", "%5B").replace("]", "%5D")
    while url and trim_url(url) != url:
        url = f"{url[:-1]}%{ord(url[-1]):02X}"
    return url
