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
        if issue.date:
            meta.setdefault("date", issue.date)
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
            quote=api.blockquote,
            esc=writer.escape,
        )
        return {"post.md": api.dump_front_matter(meta) + "\n" + api.squeeze(body)}


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


@hookimpl
def register_renderers(register):
    register(HugoRenderer())
