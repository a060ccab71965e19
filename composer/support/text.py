"""Small text helpers shared by the dialect, the plugins and the checks."""

from __future__ import annotations

import html
import re
import unicodedata

# A bare http(s) URL ends at whitespace, CJK text or full-width punctuation.
URL_RE = re.compile(
    r"https?://[^\s<>\"'`\u3000-\u303f\uff00-\uffef\u2018-\u201f\u4e00-\u9fff《》「」【】]+"
)
URL_TRAIL = ".,;:!?)]}'\"*_"
SPLIT_RE = re.compile(
    r"[\s,.;:!?()\[\]{}<>\"'“”‘’《》、。，；：！？（）「」『』【】\-—–…/\\|=+~^$%&#@*_`]+"
)
MIN_FRAGMENT = 4


# Levels of quotes (1 each) and lists (2 each) Markdown text is rendered with; deeper
# text is flattened (markdown-it drops whatever lies past its maxNesting, 20).
DEEP = 16
# The leading quote and list markers and indentation of a line: a line DEEP levels
# down has at least DEEP columns of them.
DEEP_PREFIX = re.compile(r"(?m)^[ \t>*+\-\d.)]{4,}")


def may_nest_deep(text: str) -> bool:
    """Could ``text`` hold quotes or lists nested ``DEEP`` levels? (cheap; no parse)"""
    return any(len(m.group(0).expandtabs(4)) >= DEEP for m in DEEP_PREFIX.finditer(text))


def trim_lines(text: str) -> str:
    """``text`` without its leading and trailing whitespace-only lines."""
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def trim_url(url: str) -> str:
    """Drop trailing punctuation that belongs to the sentence, keeping balanced parens."""
    while url and url[-1] in URL_TRAIL:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of every bare http(s) URL in ``text``."""
    found = []
    for m in URL_RE.finditer(text):
        url = trim_url(m.group(0))
        if len(url) > len("https://"):
            found.append((m.start(), m.start() + len(url), url))
    return found


def urls(text: str) -> list[str]:
    """Distinct URLs of ``text`` in order of first appearance."""
    out: list[str] = []
    for _, _, url in find_urls(text):
        if url not in out:
            out.append(url)
    return out


def fragments(text: str) -> list[str]:
    """Sentence fragments of ``text`` (NFKC, URLs removed, split on punctuation)."""
    text = re.sub(r"!\[[^\]\n]*\]", " ", text)
    text = URL_RE.sub(" ", unicodedata.normalize("NFKC", html.unescape(text)))
    out: list[str] = []
    for frag in SPLIT_RE.split(text):
        if len(frag) >= MIN_FRAGMENT and frag not in out:
            out.append(frag)
    return out


# a backslash escape of Markdown (and of dialect titles): readers see the character alone
MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~：—–])")


def unescaped(text: str) -> str:
    """``text`` as a reader sees it with its backslash escapes (``https\\://``) undone."""
    return MD_ESCAPE.sub(r"\1", text) if "\\" in text else text


def squash(text: str) -> str:
    """``text`` reduced to what fragments are compared against."""
    text = URL_RE.sub(" ", unicodedata.normalize("NFKC", html.unescape(text)))
    return "".join(SPLIT_RE.split(text))


ARXIV_RE = re.compile(
    r"(?:export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})"
    r"(?:v\d+)?(?:\.pdf)?",
    re.I,
)


def arxiv_id(url: str) -> str | None:
    """The version-less arXiv id of an abs/pdf/html link, else None."""
    m = ARXIV_RE.search(url)
    return m.group("id") if m else None


def canonical_url(url: str) -> str:
    """A URL reduced for comparison: no scheme, www., trailing slash, fragment or utm_*."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_")
    ]
    tail = f"?{urlencode(query)}" if query else ""
    return f"{host}{parts.path.rstrip('/')}{tail}"


# "[title](url) note": a Markdown link, the way lists pasted from elsewhere look
MD_LINK = re.compile(
    r"^\[(?P<title>[^\]\n]+)\]\((?P<url>https?://(?:[^()\s]|\([^()\s]*\))+)\)"
    r"[ \t]*[:：\-—–]*[ \t]*(?P<note>.*)$"
)


def markdown_link(line: str) -> tuple[str, str, str] | None:
    """(title, url, rest) when ``line`` starts with a Markdown link to an http(s) URL."""
    m = MD_LINK.match(line.strip())
    found = find_urls(m["url"]) if m else []
    if not found or found[0][2] != m["url"]:
        return None
    return m["title"].strip(), m["url"], m["note"].strip()


def split_at_url(line: str) -> tuple[str, str, str]:
    """(text before, URL, text after) around a line's first URL; a leading Markdown
    link ``[t](url) rest`` gives (t, url, rest); no URL gives (line, "", "")."""
    pasted = markdown_link(line)
    if pasted:
        return pasted
    found = find_urls(line)
    if not found:
        return line.strip(), "", ""
    start, end, url = found[0]
    return line[:start].strip(), url, line[end:].strip()


def fold(text: str) -> str:
    """``text`` as one line: every run of whitespace (newlines included) one space."""
    return " ".join(text.split())


def mask_url(url: str) -> str:
    """``url`` with any password (and token-like user name) in it replaced by ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    credentials, _, host = parts.netloc.rpartition("@")
    user, colon, _ = credentials.partition(":")
    masked = f"{user}:***" if colon else "***"
    return urlunsplit(parts._replace(netloc=f"{masked}@{host}"))


# RFC 2606 names for examples: never a real reader's address
RESERVED = ("example.org", "example.com", "example.net", "example", "invalid", "localhost")


def is_placeholder(value: str) -> bool:
    """An address at example.org/.com/.net, *.example, *.invalid or localhost, or none."""
    from urllib.parse import urlsplit

    value = value.strip()
    if value.lower().startswith("mailto:"):
        host = value[7:].split("?", 1)[0].rpartition("@")[2]
    else:
        try:
            host = urlsplit(value).hostname or ""
        except ValueError:
            return True
    host = host.lower().rstrip(".")
    return not host or any(host == r or host.endswith("." + r) for r in RESERVED)


# -- text from outside (feeds, APIs, the command line) -----------------------------
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


# What makes plain text live Markdown somewhere: CommonMark inline syntax (anywhere),
# link-ish words a linkifier picks up (scheme://, www., domain.tld), and, at the start
# of a line, block markers of CommonMark and of the dialect.
_INLINE = re.compile(r"([\\`*_\[\]<~])|&(?=#?\w+;)")
_SCHEME = re.compile(r"(?i)(?<![\w+.\-\\])([a-z][a-z0-9+.\-]*):(?=//)")
_MAILTO = re.compile(r"(?i)(?<![\w+.\-\\])(mailto):")
_WWW = re.compile(r"(?i)\b(www)\.")
_DOMAIN_DOT = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_])")
_BLOCK_START = re.compile(r"[#>+\-=]")
_NUMBERED = re.compile(r"(\d{1,9})([.)、．])")
_LABEL_COLON = re.compile(r"([^:：\n\\]{1,20}?)[ \t]*([:：])")
# what no section heading holds: an escape, an entity, sentence punctuation
_NO_HEADING = re.compile(r"[\\.,;!?。，；！？]|&#")
_ENTITY = {"、": "&#12289;", "．": "&#65294;", "：": "&#65306;", "《": "&#12298;"}


def defuse_links(text: str) -> str:
    """Markdown ``text`` with its URLs, ``www.`` names and domain names escaped so no
    linkifier links them (``https\\://x.org``, ``x\\.org``); readers see them unchanged."""
    text = _SCHEME.sub(r"\1\\:", text)
    text = _MAILTO.sub(r"\1\\:", text)
    text = _WWW.sub(r"\1\\.", text)
    return _DOMAIN_DOT.sub(r"\\.", text)


def literal_markdown(text: str) -> str:
    """Markdown (and dialect) that reads back as exactly ``text``, nothing of it markup.

    For text from outside (feed summaries, notes from the command line) that goes
    into an item's Markdown ``text``: inline syntax is backslash-escaped, URLs and
    domain names cannot be linked, and no line starts a heading, quote, list, code
    block, labelled turn (``Q:``, ``研究员1：``), source line or paper title, or is a
    bare section heading (a short line ends in an invisible ``&#32;``). Lines are
    stripped of surrounding whitespace; blank lines still separate paragraphs.
    """
    lines = []
    for line in text.split("\n"):
        line = defuse_links(_INLINE.sub(lambda m: "\\" + (m.group(1) or "&"), line.strip()))
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


def escape_title(title: str) -> str:
    """A plain title (or source name) as the dialect writes it on one line: parsing
    it back (:func:`unescape_title`) gives ``title`` again, with no URL taken from it."""
    line = " ".join(part.strip() for part in title.splitlines()).strip()
    line = _TITLE_BACKSLASH.sub(r"\\\\", line)
    line = _TITLE_URL.sub(r"\1\\:", line)
    if strip_title_end(line) != line:  # a trailing ":" or " -" reads as the separator
        line = line[:-1] + "\\" + line[-1]
    return line


def unescape_title(text: str) -> str:
    """A title as written in the dialect -> the plain title (``\\:`` -> ``:``)."""
    return _TITLE_ESCAPE.sub(r"\1", text) if "\\" in text else text


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


def dialect_url(url: str) -> str:
    """``url`` written so the dialect reads it back whole: characters a bare URL
    cannot hold (spaces, quotes, CJK ...) percent-encoded, and so is a last character
    that would be taken for the sentence's punctuation."""
    from urllib.parse import quote

    url = "".join(ch if URL_RE.fullmatch("https://" + ch) else quote(ch, safe="") for ch in url)
    while url and trim_url(url) != url:
        url = f"{url[:-1]}%{ord(url[-1]):02X}"
    return url
