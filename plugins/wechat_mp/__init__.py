"""Publishing to a WeChat Official Account (公众号) without copy-paste.

- ``wechat.html`` (renderer ``wechat_html``): the article body as the 公众号 editor and
  its draft API take it: inline styles only, WeChat citations numbered as in
  wechat.md, code whitespace kept. ``composer preview`` shows it with a 复制到公众号
  button that puts it on the clipboard as rich text.
- ``[delivery.wechat]`` (deliverer ``wechat``): ``composer send`` and the scheduled run
  put the issue into the account's draft box (images uploaded, cover set); the editor
  presses publish. See docs/wechat.md.
"""

from __future__ import annotations

from composer import api
from composer.api import hookimpl

OUTPUT = "wechat.html"
TABLE = "delivery.wechat"


class WechatHtmlRenderer:
    """wechat.html: one page whose <body> is the article."""

    name = "wechat_html"
    outputs = (OUTPUT,)
    faithful = (OUTPUT,)
    config = None

    def render(self, issue, ctx):
        from composer.plugins.wechat_mp.article import article_of, render_html
        from composer.plugins.wechat_mp.rules import size_problem

        page = render_html(issue, ctx)
        too_big = size_problem(article_of(page), blocking=False)
        if too_big is not None:
            ctx.warn(OUTPUT, too_big.message)
        return {OUTPUT: page}

    def check(self, files, ctx):
        """Markup the editor keeps; the API's size limits as warnings when
        ``[delivery.wechat]`` is not configured (its own check blocks on them)."""
        from composer.plugins.wechat_mp.rules import html_rules

        page = files.get(OUTPUT)
        if page is None:
            return []
        return html_rules(page, sized=TABLE not in ctx.plugin_config)

    def preview(self, files):
        from composer.plugins.wechat_mp.preview import copy_page

        page = files.get(OUTPUT)
        return [api.Preview("公众号 · 复制到公众号", copy_page(page), 400)] if page else []


@hookimpl
def register_renderers(register):
    register(WechatHtmlRenderer())


@hookimpl
def register_deliverers(register):
    from composer.plugins.wechat_mp.push import DraftDeliverer

    register(DraftDeliverer())
