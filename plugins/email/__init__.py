"""Email HTML (``email.html``): one 600px column, CSS inlined with premailer.

Client-specific CSS (dark mode, phone widths) cannot be inlined; it is added as a
``<style>`` after inlining, so removing every ``<style>`` changes nothing at
desktop width in light mode.
"""

from __future__ import annotations

from composer import api
from composer.api import hookimpl


class EmailRenderer:
    """email.html, plus email.eml: the same HTML with the text part (email.txt, when the
    text renderer runs), addressed as ``[delivery.email]`` says."""

    name = "email"
    outputs = ("email.html", "email.eml")
    faithful = ("email.html",)
    after = ("text",)
    config = None

    def check(self, files, ctx):
        from composer.plugins.email.rules import email_rules
        from composer.plugins.email.smtp import sender_rules

        html = files.get("email.html")
        return (email_rules(html) if html is not None else []) + sender_rules(ctx)

    def preview(self, files):
        """email.html as a desktop client (600 px column) and a phone (375 px) show it."""
        html = files.get("email.html")
        if html is None:
            return []
        return [
            api.Preview("Email · 600 px", html, 640),
            api.Preview("Email · 375 px", html, 375),
        ]

    def render(self, issue, ctx):
        from markupsafe import Markup, escape

        to_html = api.markdown_to_html

        image_alt = escape(ctx.strings.get("image", "image"))

        def html_of(text: str) -> str:
            """Markdown as HTML; an image the editor left without alt text gets the image word."""
            return to_html(text).replace(' alt=""', f' alt="{image_alt}"')

        def md(text: str):
            return Markup(f'<div class="md">{html_of(text)}</div>')

        def turn(label: str, text: str):
            """A labelled turn: the label in bold at the start of its first paragraph."""
            body = html_of(text)
            tag = Markup('<strong class="label">{}</strong>：').format(label)
            if body.startswith("<p>"):
                return Markup('<div class="md"><p>') + tag + Markup(body[3:] + "</div>")
            return Markup('<div class="md"><p>') + tag + Markup(f"</p>{body}</div>")

        def spelled_out(url: str) -> bool:
            """Should a titled link also show its URL? When part of it reads as an HTML
            entity once decoded (``?id=5&reg=us``): a tool that decodes the page twice
            would see another URL, and only the visible text keeps it as written."""
            import html as html_module

            return html_module.unescape(url) != url

        env = ctx.env
        page = ctx.render_page(
            "issue.email.j2",
            issue,
            md=md,
            turn=turn,
            spelled_out=spelled_out,
            fmt="email",
            preheader=preheader(issue),
        )
        client_css = env.get_template("email-client.css.j2").render()
        html = api.inline_css(page)
        html = html.replace("</head>", f"<style>{client_css}</style>\n</head>", 1)
        from composer.plugins.email.rules import CLIP_BYTES, clip_message
        from composer.plugins.email.smtp import message_for

        size = len(html.encode("utf-8"))
        if size > CLIP_BYTES:
            ctx.warn("email.html", clip_message(html, size))
        text = ctx.rendered.get("email.txt")
        message = message_for(issue, ctx, html, text, to=[])
        return {"email.html": html, "email.eml": message.as_bytes()}


def preheader(issue) -> str:
    """The first words of the issue as a reader sees them, for the inbox preview line."""
    from composer.api import markdown_plain_text as plain_text

    for item in issue.items():
        text = item.title or plain_text(item.text or (item.turns[0].text if item.turns else ""))
        text = " ".join(text.split())
        if text:
            return text[:120]
    return issue.title


@hookimpl
def register_renderers(register):
    register(EmailRenderer())


@hookimpl
def register_deliverers(register):
    from composer.plugins.email.smtp import SmtpDeliverer

    register(SmtpDeliverer())
