"""Did every URL and sentence of the source reach every output, and do outputs obey
the client rules? The same checks as ../shared/tools/fidelity.py, with our own tests.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from composer.support.text import fragments, squash, urls

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


# -- client rules --------------------------------------------------------------
CLIP_BYTES = 100 * 1024  # the email renderer warns from the same size
CJK = r"[\u3400-\u9fff\uf900-\ufaff]"
MIXED_PUNCT = re.compile(rf"(?<={CJK})[,;:?!](?=\s*{CJK})|(?<={CJK})[,;:?!](?=\s*$)")


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def outside_code(md: str) -> str:
    """Markdown with code blocks and spans blanked (line numbers kept)."""
    md = re.sub(r"(?ms)^(```|~~~).*?^\1[^\n]*$", lambda m: "\n" * m.group(0).count("\n"), md)
    return re.sub(r"`[^`\n]*`", "", md)


def email_rules(html_text: str) -> list[Problem]:
    out: list[Problem] = []
    doc = visible_html(html_text)
    if re.search(r"<script", html_text, re.I):
        line = _line_of(html_text, re.search(r"<script", html_text, re.I).start())
        out.append(Problem("email.html", "script", "contains <script>", line))
    for tag, attrs, line in doc.tags:
        if tag in ("iframe", "object", "embed", "form", "base"):
            out.append(Problem("email.html", "forbidden-tag", f"contains <{tag}>", line))
        handlers = [k for k in attrs if k.lower().startswith("on")]
        if handlers:
            out.append(Problem("email.html", "event-handler", f"<{tag}> has {handlers[0]}", line))
    for href, line in doc.hrefs:
        target = href.strip()
        if target.lower().startswith("javascript:"):
            out.append(
                Problem("email.html", "javascript-link", f"javascript: link {target[:60]}", line)
            )
        elif not re.match(r"(https?://|mailto:|#)", target):
            out.append(
                Problem("email.html", "relative-link", f"link is not absolute: {target}", line)
            )
    if not any(t == "html" and a.get("lang") for t, a, _ in doc.tags):
        out.append(Problem("email.html", "lang", "<html> declares no lang", 1, blocking=False))
    if not re.search(r"<meta[^>]+charset", html_text, re.I):
        out.append(Problem("email.html", "charset", "no charset declared", 1, blocking=False))
    size = len(html_text.encode("utf-8"))
    if size > CLIP_BYTES:
        out.append(Problem("email.html", "size", clip_message(html_text, size), blocking=False))
    return out


def clip_message(html_text: str, size: int) -> str:
    """How far past Gmail's clipping point an email is, and its largest sections."""
    chunks = re.split(r"(?=<tr><td class=\"section )", html_text)[1:]
    sized = []
    for chunk in chunks:
        title = re.search(r"<h2[^>]*>(.*?)</h2>", chunk, re.S)
        sized.append((len(chunk.encode("utf-8")), html.unescape(title.group(1)) if title else "?"))
    biggest = ", ".join(f"{t} {n // 1024} KB" for n, t in sorted(sized, reverse=True)[:3])
    return (
        f"email.html is {size // 1024} KB: Gmail will clip it past ~102 KB "
        f"(largest sections: {biggest or 'n/a'})"
    )


def wechat_rules(md: str) -> list[Problem]:
    out: list[Problem] = []
    body = outside_code(md)
    for m in re.finditer(r"(?<!!)\[([^\]\n]*)\]\((\S+?)\)", body):
        if "mp.weixin.qq.com" not in m.group(2):
            out.append(
                Problem(
                    "wechat.md",
                    "external-link",
                    f"Markdown link the editor will drop: {m.group(0)[:60]}",
                    _line_of(body, m.start()),
                )
            )
    for n, line in enumerate(body.split("\n"), 1):
        if re.match(r"\s{0,3}\[[^\]]+\]:\s", line):
            out.append(
                Problem(
                    "wechat.md",
                    "definition-line",
                    f"starts like a link definition and vanishes: {line[:50]}",
                    n,
                )
            )
    if re.search(r"<style|<[a-z][^>]*\s(?:class|id)\s*=", body, re.I):
        out.append(
            Problem("wechat.md", "styling", "<style>, class= or id= is stripped", blocking=False)
        )
    for m in re.finditer(r"\*\*[^*\n]*[：:]\*\*", body):
        out.append(
            Problem(
                "wechat.md",
                "bold-colon",
                f"{m.group(0)} is not bolded",
                _line_of(body, m.start()),
                blocking=False,
            )
        )
    return out


def post_rules(md: str) -> list[Problem]:
    if not md.startswith("---\n") or md.find("\n---", 3) == -1:
        return [Problem("post.md", "front-matter", "no front matter", 1)]
    front = md[4 : md.find("\n---", 3)]
    keys = re.findall(r"(?m)^([A-Za-z_][\w-]*)\s*:", front)
    out = [
        Problem("post.md", "front-matter", f"repeats key {k}", blocking=False)
        for k in sorted({k for k in keys if keys.count(k) > 1})
    ]
    if "title" not in keys:
        out.append(Problem("post.md", "front-matter", "no title", 1, blocking=False))
    return out


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


RULES = {"email.html": email_rules, "wechat.md": wechat_rules, "post.md": post_rules}


def check_all(source: str, outdir: Path, source_name: str = "source") -> list[Problem]:
    """Fidelity plus client rules for every output, and source warnings."""
    problems = check_outputs(source, outdir)
    for name, rule in RULES.items():
        path = outdir / name
        if path.is_file():
            problems += rule(path.read_text(encoding="utf-8", errors="replace"))
    return problems + source_rules(source, source_name)
