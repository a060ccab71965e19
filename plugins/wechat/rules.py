"""What ``composer check`` demands of wechat.md: what the WeChat editors keep."""

from __future__ import annotations

import re

from composer import api

NAME = "wechat.md"


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def outside_code(md: str) -> str:
    """Markdown with fenced code blocked out and code spans removed (lines kept)."""
    fences = api.Fences()
    lines = ["" if fences.step(line) else line for line in md.split("\n")]
    return re.sub(r"`[^`\n]*`", "", "\n".join(lines))


def wechat_rules(md: str) -> list[api.Problem]:
    """Blocking: Markdown links outside mp.weixin.qq.com (the editor drops them) and
    lines that read as link definitions (they vanish). Warnings: styling the editor
    strips, bold that ends in a colon (not bolded there)."""
    out: list[api.Problem] = []
    body = outside_code(md)
    for m in re.finditer(r"(?<!!)\[([^\]\n]*)\]\((\S+?)\)", body):
        if "mp.weixin.qq.com" not in m.group(2):
            out.append(
                api.Problem(
                    NAME,
                    "external-link",
                    f"Markdown link the editor will drop: {m.group(0)[:60]}",
                    _line_of(body, m.start()),
                )
            )
    for n, line in enumerate(body.split("\n"), 1):
        if re.match(r"\s{0,3}\[[^\]]+\]:\s", line):
            message = f"starts like a link definition and vanishes: {line[:50]}"
            out.append(api.Problem(NAME, "definition-line", message, n))
    if re.search(r"<style|<[a-z][^>]*\s(?:class|id)\s*=", body, re.I):
        out.append(
            api.Problem(NAME, "styling", "<style>, class= or id= is stripped", blocking=False)
        )
    for m in re.finditer(r"\*\*[^*\n]*[：:]\*\*", body):
        out.append(
            api.Problem(
                NAME,
                "bold-colon",
                f"{m.group(0)} is not bolded",
                _line_of(body, m.start()),
                blocking=False,
            )
        )
    return out
