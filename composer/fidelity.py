"""Did every URL and sentence of the source reach every output, and do outputs obey
the client rules? The same checks as ../shared/tools/fidelity.py, with our own tests.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from .textutil import fragments, squash, urls

OUTPUTS = ("email.html", "email.txt", "wechat.md", "post.md")
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


@dataclass
class Problem:
    output: str
    rule: str
    message: str
    line: int = 0
    blocking: bool = True

    def __str__(self) -> str:
        where = f"{self.output}:{self.line}" if self.line else self.output
        return f"{where}: [{self.rule}] {self.message}"


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


def source_expectations(source: str) -> tuple[list[str], list[str]]:
    """(URLs, sentence fragments) an output must carry for ``source``."""
    front, body = "", source
    if source.startswith("---"):
        end = source.find("\n---", 3)
        if end != -1:
            front, body = source[3:end], source[end + 4 :]
    live = "\n".join(re.sub(r"(^|\s)#.*$", "", ln) for ln in front.splitlines())
    expected_urls = urls(live + "\n" + body)
    frags = fragments(body)
    title = re.search(r"(?m)^title:\s*[\"']?(.*?)[\"']?\s*$", front)
    if title:
        frags += [f for f in fragments(title.group(1)) if f not in frags]
    return expected_urls, frags


def lost(source: str, output: str, text: str) -> list[Problem]:
    """URLs and fragments of ``source`` missing from the visible text of one output."""
    expected_urls, frags = source_expectations(source)
    if output.endswith(".html"):
        doc = visible_html(text)
        hay_text = " ".join(doc.parts)
        hay_urls = hay_text + " " + " ".join(html.unescape(h) for h, _ in doc.hrefs)
    else:
        plain = re.sub(r"(?s)<!--.*?-->", " ", text)
        hay_text = plain if output.endswith(".txt") else re.sub(r"</?[A-Za-z][^>\n]*>", " ", plain)
        hay_urls = text
    squashed = squash(hay_text)
    out = [Problem(output, "lost-url", f"lost URL {u}") for u in expected_urls if u not in hay_urls]
    out += [
        Problem(output, "lost-text", f"lost text «{f[:40]}»") for f in frags if f not in squashed
    ]
    return out


def check_outputs(source: str, outdir: Path) -> list[Problem]:
    """Every fidelity problem of the outputs in ``outdir`` for dialect text ``source``."""
    problems: list[Problem] = []
    for name in OUTPUTS:
        path = outdir / name
        if not path.is_file():
            problems.append(Problem(name, "missing-output", f"{name} was not written"))
            continue
        problems += lost(source, name, path.read_text(encoding="utf-8", errors="replace"))
    return problems
