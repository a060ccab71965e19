"""What ``composer check`` demands of email.html (the email plugin's own rules)."""

from __future__ import annotations

import html
import re

from composer import api

CLIP_BYTES = 100 * 1024  # Gmail clips past ~102 KB: warn before that
FORBIDDEN_TAGS = ("iframe", "object", "embed", "form", "base")


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def email_rules(html_text: str, name: str = "email.html") -> list[api.Problem]:
    """Blocking: script, forms and frames, event handlers, javascript: and relative
    links. Warnings: no lang, no charset, past Gmail's clipping size."""
    out: list[api.Problem] = []
    doc = api.visible_html(html_text)
    script = re.search(r"<script", html_text, re.I)
    if script:
        out.append(
            api.Problem(name, "script", "contains <script>", _line_of(html_text, script.start()))
        )
    for tag, attrs, line in doc.tags:
        if tag in FORBIDDEN_TAGS:
            out.append(api.Problem(name, "forbidden-tag", f"contains <{tag}>", line))
        handlers = [k for k in attrs if k.lower().startswith("on")]
        if handlers:
            out.append(api.Problem(name, "event-handler", f"<{tag}> has {handlers[0]}", line))
    for href, line in doc.hrefs:
        target = href.strip()
        if target.lower().startswith("javascript:"):
            out.append(
                api.Problem(name, "javascript-link", f"javascript: link {target[:60]}", line)
            )
        elif not re.match(r"(https?://|mailto:|#)", target):
            out.append(api.Problem(name, "relative-link", f"link is not absolute: {target}", line))
    if not any(t == "html" and a.get("lang") for t, a, _ in doc.tags):
        out.append(api.Problem(name, "lang", "<html> declares no lang", 1, blocking=False))
    if not re.search(r"<meta[^>]+charset", html_text, re.I):
        out.append(api.Problem(name, "charset", "no charset declared", 1, blocking=False))
    size = len(html_text.encode("utf-8"))
    if size > CLIP_BYTES:
        out.append(api.Problem(name, "size", clip_message(html_text, size), blocking=False))
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
