"""Hugo post (``post.md``): front matter from the issue, body as Markdown."""

from __future__ import annotations

import re

from composer.contract.hookspecs import hookimpl


class HugoRenderer:
    name = "hugo"
    outputs = ("post.md",)
    config = None

    def render(self, issue, ctx):
        from composer.pipeline.parse import dump_front_matter
        from composer.support.mdwriter import MarkdownWriter

        writer = MarkdownWriter()

        def turn(label: str, text: str) -> str:
            return label_first(f"**{label}**：", writer.write(text))

        meta = dict(issue.meta)
        meta.setdefault("title", issue.title or ctx.settings.newsletter.title)
        date = hugo_date(issue, ctx)
        if date:
            meta["date"] = date
        else:
            meta.pop("date", None)
        meta.setdefault("draft", True)

        def link(title: str, url: str) -> str:
            text = writer.escape(title or url)
            return writer.link(text, url, "") if url else text

        body = ctx.env.get_template("issue.hugo.j2").render(
            **ctx.page_vars(issue),
            md=writer.write,
            turn=turn,
            fmt="hugo",
            link=link,
            quote=quote,
            esc=writer.escape,
        )
        return {"post.md": dump_front_matter(meta) + "\n" + squeeze(body)}


def hugo_date(issue, ctx) -> str:
    """The issue's date as ISO 8601, which Hugo reads: the editor's (any common form), else
    the issue's day of its week; a date that is no date is left out, with a warning."""
    from composer.support.dates import issue_day, machine_date, parse_when

    when = parse_when(issue.date) if issue.date else None
    if when is not None:
        return machine_date(when)
    day = issue_day(issue.id, ctx.settings.schedule.cron)
    if issue.date:
        instead = f"uses {day.isoformat()}, the issue's day" if day else "has no date"
        ctx.warn("post.md", f"date {issue.date!r} is not a date Hugo reads: the post {instead}")
    return day.isoformat() if day else ""


LIST_ITEM = re.compile(r"\d{1,9}[.)](\s|$)")


def label_first(label: str, body: str) -> str:
    """Put a turn label in front of its first paragraph, or on its own line before a block."""
    first = body.split("\n", 1)[0]
    block_start = first.startswith(("```", "- ", "> ", "#", "|", "    "))
    if not body or block_start or LIST_ITEM.match(first):
        return f"{label}\n\n{body}" if body else label
    if body.startswith("*"):  # "**Q**：**粗体**" reads as a bold "：" to some editors
        return f"{label} {body}"
    return label + body


def quote(text: str) -> str:
    """Indent a follow-up turn as a blockquote."""
    return "\n".join("> " + ln if ln else ">" for ln in text.split("\n"))


def squeeze(text: str) -> str:
    """At most one blank line between blocks, outside code fences."""
    out: list[str] = []
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and not line.strip() and out and not out[-1].strip():
            continue
        out.append(line.rstrip() if not fence else line)
    return "\n".join(out).strip("\n") + "\n"


@hookimpl
def register_renderers(register):
    register(HugoRenderer())
