"""Hugo post (``post.md``): front matter from the issue, body as Markdown."""

from __future__ import annotations

import re

from composer import api
from composer.api import hookimpl


class HugoRenderer:
    name = "hugo"
    outputs = ("post.md",)
    faithful = ("post.md",)
    config = None

    def check(self, files, ctx):
        return post_rules(files["post.md"]) if "post.md" in files else []

    def render(self, issue, ctx):
        writer = api.MarkdownWriter()

        def turn(label: str, text: str) -> str:
            return api.label_first(f"**{label}**：", writer.write(text))

        meta = dict(issue.meta)
        meta.setdefault("title", issue.title or ctx.settings.newsletter.title)
        date = hugo_date(issue, ctx)
        if date:
            meta["date"] = date
        else:
            meta.pop("date", None)
        meta.setdefault("draft", True)

        def link(title: str, url: str) -> str:
            text = writer.plain(title) if title else writer.escape(url)
            return writer.link(text, url, "") if url else text

        body = ctx.render_page(
            "issue.hugo.j2",
            issue,
            md=writer.write,
            turn=turn,
            fmt="hugo",
            link=link,
            quote=api.blockquote,
            esc=writer.escape,
            plain=writer.plain,
        )
        return {"post.md": api.dump_front_matter(meta, escape_tags=True) + "\n" + api.squeeze(body)}


def post_rules(md: str) -> list[api.Problem]:
    """post.md needs front matter Hugo accepts: present, a title, no repeated key."""
    if not md.startswith("---\n") or md.find("\n---", 3) == -1:
        return [api.Problem("post.md", "front-matter", "no front matter", 1)]
    front = md[4 : md.find("\n---", 3)]
    keys = re.findall(r"(?m)^([A-Za-z_][\w-]*)\s*:", front)
    out = [
        api.Problem("post.md", "front-matter", f"repeats key {k}", blocking=False)
        for k in sorted({k for k in keys if keys.count(k) > 1})
    ]
    if "title" not in keys:
        out.append(api.Problem("post.md", "front-matter", "no title", 1, blocking=False))
    return out


def hugo_date(issue, ctx) -> str:
    """The issue's date as ISO 8601, which Hugo reads: the editor's (any common form), else
    the issue's day of its week; a date that is no date is left out, with a warning."""
    when = api.parse_when(issue.date) if issue.date else None
    if when is not None:
        return api.machine_date(when)
    day = api.issue_day(issue.id, ctx.settings.schedule.cron)
    if issue.date:
        instead = f"uses {day.isoformat()}, the issue's day" if day else "has no date"
        ctx.warn("post.md", f"date {issue.date!r} is not a date Hugo reads: the post {instead}")
    return day.isoformat() if day else ""


@hookimpl
def register_renderers(register):
    register(HugoRenderer())
