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
    return list(dict.fromkeys(url for _, _, url in find_urls(text)))


def url_spans(text: str) -> set[str]:
    """Every URL the pattern finds in ``text``, as matched and trimmed (substrings of
    ``text``: a quick first answer for :class:`Haystack`)."""
    found = {m.group(0) for m in URL_RE.finditer(text)}
    return found | {trim_url(u) for u in found}


def fragments(text: str) -> list[str]:
    """Sentence fragments of ``text`` (NFKC, URLs removed, split on punctuation)."""
    text = re.sub(r"!\[[^\]\n]*\]", " ", text)
    text = URL_RE.sub(" ", unicodedata.normalize("NFKC", html.unescape(text)))
    return list(dict.fromkeys(f for f in SPLIT_RE.split(text) if len(f) >= MIN_FRAGMENT))


# a backslash escape of Markdown (and of dialect titles): readers see the character alone
MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~：—–])")


def unescaped(text: str) -> str:
    """``text`` as a reader sees it with its backslash escapes (``https\\://``) undone."""
    return MD_ESCAPE.sub(r"\1", text) if "\\" in text else text


_AS_READ = re.compile(
    r"\\([!-/:-@\[-`{-~：—–])|&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)


def as_read(text: str) -> str:
    """Markdown ``text`` as a reader sees it: backslash escapes and entities undone in
    one pass, so an escaped entity (``\\&#x29;``) stays the characters it shows."""
    if "\\" not in text and "&" not in text:
        return text
    return _AS_READ.sub(lambda m: m.group(1) or html.unescape(m.group(0)), text)


def squash(text: str) -> str:
    """``text`` reduced to what fragments are compared against."""
    return "".join(squash_parts(text))


def squash_parts(text: str) -> list[str]:
    """The pieces :func:`squash` joins (``text`` split where it drops separators)."""
    text = URL_RE.sub(" ", unicodedata.normalize("NFKC", html.unescape(text)))
    return SPLIT_RE.split(text)


def squashed(text: str) -> Haystack:
    """:func:`squash` of ``text``, ready for many ``fragment in`` questions."""
    parts = squash_parts(text)
    return Haystack("".join(parts), parts)


class Haystack:
    """``needle in text`` for many needles asked in about the order they appear: the
    same answers as ``in``, without scanning the whole text for each (that made loss
    checks quadratic). ``known`` are substrings of ``text`` answered at once; a search
    starts where the last needle was found, and only a miss scans the whole text."""

    def __init__(self, text: str, known=()) -> None:
        self.text = text
        self.known = set(known)
        self.cursor = 0

    def __contains__(self, needle: str) -> bool:
        if needle in self.known:
            return True
        at = self.text.find(needle, self.cursor)
        if at == -1:
            at = self.text.find(needle)
            if at == -1:
                return False
        self.cursor = at
        return True


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
    """A URL reduced for comparison: no scheme, www., trailing slash, fragment (unless it
    routes a one-page site: ``#/post/1``, ``#!/a``) or utm_*."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_")
    ]
    tail = f"?{urlencode(query)}" if query else ""
    if parts.fragment.startswith(("/", "!")):  # #/post/1: a page of a one-page site
        tail += f"#{parts.fragment}"
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


# scheme://user:password@ (greedy to the last @ of the authority)
# user info: "user@", "user:pass@", and "user:pa/ss@" too (a password with an unencoded
# "/": malformed, but a secret all the same; a port before an "@" in the path is masked
# with it, which is the safe mistake)
USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)(?:[^\s/?#@]*@|[^\s/?#@:]*:[^\s@\"'<>]*@)")


def mask_url(url: str) -> str:
    """``url`` with its credentials (user name and password) replaced by ``***``."""
    return mask_urls(url)


def mask_urls(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***``."""
    return USERINFO_RE.sub(r"\1***@", text)


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
