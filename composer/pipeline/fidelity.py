"""Did every URL and sentence of the source reach an output? The same test as
../shared/tools/fidelity.py: visible text only (hidden parts of HTML do not count).

Which outputs must pass it is each renderer's choice (``faithful``); its own client
rules live with the renderer.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from composer.contract.protocols import Problem
from composer.support.text import Haystack, fragments, squashed, unescaped, url_spans, urls

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
HIDDEN = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all|max-height\s*:\s*0"
    r"|font-size\s*:\s*0",
    re.I,
)


class VisibleText(HTMLParser):
    """Visible text, link targets and tags of an HTML document (hidden parts skipped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[tuple[str, int]] = []
        self.tags: list[tuple[str, dict, int]] = []
        self._open: list[tuple[str, bool]] = []

    def _hidden(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        line = self.getpos()[0]
        self.tags.append((tag, attrs, line))
        if tag == "a" and attrs.get("href"):
            self.hrefs.append((attrs["href"], line))
        self.parts.append(" ")
        if tag in VOID:
            return
        hidden = (
            self._hidden()
            or tag in ("style", "script", "head", "title", "template")
            or "hidden" in attrs
            or bool(HIDDEN.search(attrs.get("style") or ""))
        )
        self._open.append((tag, hidden))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._hidden():
            self.parts.append(data)


def visible_html(text: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(text)
    parser.close()
    return parser


def link_parts(url: str) -> list[str]:
    """The URLs in what the URL pattern took for one: split where a Markdown link's
    text ends and its target begins (``](``)."""
    if "](" not in url:
        return [url]
    return [found for part in url.split("](") for found in urls(part)]


def source_expectations(source: str) -> tuple[list[str], list[str]]:
    """(URLs, sentence fragments) an output must carry for ``source``."""
    front, body = "", source
    if source.startswith("---"):
        end = source.find("\n---", 3)
        if end != -1:
            front, body = source[3:end], source[end + 4 :]
    live = "\n".join(re.sub(r"(^|\s)#.*$", "", ln) for ln in front.splitlines())
    # "[https://x](https://x)" is two URLs, not one running through "]("
    expected_urls = list(dict.fromkeys(p for u in urls(live + "\n" + body) for p in link_parts(u)))
    # an escaped URL (``https\://``) is no link, but a reader sees a URL: it is no text
    frags = fragments(unescaped(body))
    title = _front_title(source) if front else ""
    if title:
        frags += [f for f in fragments(title) if f not in frags]
    return expected_urls, frags


def _front_title(source: str) -> str:
    """The title the front matter gives, as YAML reads it (escapes such as ``\\n``
    undone), one line."""
    from composer.contract.protocols import Report
    from composer.support.frontmatter import split_front_matter

    meta, _, _ = split_front_matter(source, "", Report())
    return " ".join(str(meta.get("title", "")).split())


TAG = re.compile(r"</?[A-Za-z][^>\n]*>")


def _split_front(md: str) -> tuple[str, str]:
    """(front matter, body) of a Markdown file; ('', md) without front matter."""
    if md.startswith("---\n"):
        end = md.find("\n---", 3)
        if end != -1:
            return md[: end + 4], md[end + 4 :]
    return "", md


CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


def strip_markup_tags(md: str) -> str:
    """Markdown without its raw HTML tags (markup, not text), except in code, which
    readers see as it is (``<script>`` in a fenced block is text)."""
    if "<" not in md:
        return md
    from composer.support.fences import mark

    out = []
    for line, code in mark(md.split("\n")):
        if code or "<" not in line:
            out.append(line)
            continue
        pos, kept = 0, []
        for m in CODE_SPAN.finditer(line):
            kept += [TAG.sub(" ", line[pos : m.start()]), m.group(0)]
            pos = m.end()
        out.append("".join(kept) + TAG.sub(" ", line[pos:]))
    return "\n".join(out)


class Expectations:
    """What every output of one source must carry, worked out once for all outputs."""

    def __init__(self, source: str) -> None:
        self.urls, self.fragments = source_expectations(source)


def lost(
    source: str, output: str, text: str, expected: Expectations | None = None
) -> list[Problem]:
    """URLs and fragments of ``source`` missing from the visible text of one output."""
    expected = expected or Expectations(source)
    if output.endswith(".html"):
        doc = visible_html(text)
        hay_text = " ".join(doc.parts)
        hay_urls = hay_text + " " + " ".join(h for h, _ in doc.hrefs)  # attributes: decoded once
    elif output.endswith(".txt"):  # plain text: what is there is what a reader sees
        hay_text = text
    else:  # Markdown: raw HTML is markup (front matter, Hugo's, is data)
        front, body = _split_front(text)
        hay_text = front + "\n" + strip_markup_tags(re.sub(r"(?s)<!--.*?-->", " ", body))
    if not output.endswith(".html"):
        hay_urls = text if "\\" not in text else text + "\n" + unescaped(text)
    hay = squashed(hay_text)
    words = set(fragments(hay_text)) if len(expected.fragments) > 20 else set()
    links = Haystack(hay_urls, url_spans(hay_urls))
    out = [Problem(output, "lost-url", f"lost URL {u}") for u in expected.urls if u not in links]
    out += [
        Problem(output, "lost-text", f"lost text «{f[:40]}»")
        for f in expected.fragments
        if f not in words and f not in hay
    ]
    return out


# -- the editor's own text ------------------------------------------------------
CJK = r"[\u3400-\u9fff\uf900-\ufaff]"
MIXED_PUNCT = re.compile(rf"(?<={CJK})[,;:?!](?=\s*{CJK})|(?<={CJK})[,;:?!](?=\s*$)")


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def source_rules(source: str, name: str) -> list[Problem]:
    """Warnings about the editor's text itself: punctuation mixed into CJK."""
    hits = [_line_of(source, m.start()) for m in MIXED_PUNCT.finditer(source)]
    if not hits:
        return []
    lines = ", ".join(str(n) for n in sorted(set(hits))[:8])
    return [
        Problem(
            name,
            "mixed-punctuation",
            f"{len(hits)} half-width , ; : ? ! next to CJK text (lines {lines}"
            f"{' …' if len(set(hits)) > 8 else ''})",
            blocking=False,
        )
    ]
