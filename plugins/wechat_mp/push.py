"""``[delivery.wechat]``: the issue into the 公众号 draft box, where the editor presses publish.

One draft per issue: its media_id is kept in the plugin's state table, so a later
push (``composer send --resend``, or a send retried after a failure) updates that
draft with ``draft/update``; a new draft is made only when WeChat no longer has it
(published or deleted: ``draft/get`` answers 40007). Every image of the article is
downloaded (the network policy and size caps apply) and uploaded with
``media/uploadimg`` (the API filters external images out); the cover is uploaded
once as permanent material and uploaded again only when its file changes.
"""

from __future__ import annotations

import html
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from composer import api
from composer.api import Delivery, DeliveryError

SECRET_ENV = "COMPOSER_WECHAT_SECRET"
TABLE = "delivery.wechat"
STATE = "wechat_mp"
OUTPUT = "wechat.html"
IMAGE_MAX = 1024 * 1024 - 1  # uploadimg: jpg/png "大小必须在1MB以下"
COVER_MAX = 10 * 1024 * 1024  # add_material image: 10 MB, bmp/png/jpeg/jpg/gif
COVER_TYPES = (".jpg", ".jpeg", ".png", ".gif", ".bmp")
COVER_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
IMG_SRC = re.compile(r'(<img\b[^>]*?\ssrc=")([^"]*)(")', re.I)
WECHAT_CDN = re.compile(r"(^|\.)(qpic\.cn|qlogo\.cn)$", re.I)


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class WechatConfig:
    """``[delivery.wechat]`` in composer.toml (the secret: ``$COMPOSER_WECHAT_SECRET``)."""

    __pydantic_config__ = {"extra": "forbid"}
    app_id: str
    cover: str
    api_url: str = "https://api.weixin.qq.com"
    author: str = ""
    need_open_comment: bool = False
    only_fans_can_comment: bool = False
    content_source_url: str = ""  # default: [newsletter] url with {id}
    timeout: float = 30.0

    def __post_init__(self) -> None:
        from composer.plugins.wechat_mp.rules import MAX_AUTHOR

        if not self.app_id.strip():
            raise ValueError("app_id: the account's AppID (公众号后台 → 设置与开发 → 基本配置)")
        if not self.cover.strip():
            raise ValueError("cover: an image file in the workspace (jpg/png, the draft's cover)")
        if len(self.author) > MAX_AUTHOR:
            raise ValueError(f"author: at most {MAX_AUTHOR} characters (the draft API's limit)")
        parts = urlsplit(self.api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"api_url: an http(s) URL, not {self.api_url!r}")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise ValueError("api_url: https only (the AppSecret travels to it), except loopback")
        if self.content_source_url and urlsplit(self.content_source_url).scheme not in (
            "http",
            "https",
        ):
            raise ValueError("content_source_url: an http(s) URL")
        if not 0 < self.timeout <= 600:
            raise ValueError("timeout: from 0 to 600 seconds")


@dataclass
class Plan:
    """What a push consists of, worked out without the network."""

    title: str
    article: str
    images: list[str]
    cover: Path
    source_url: str


def plan_of(page: str, issue_id: str, ctx, config: WechatConfig) -> Plan:
    """The push of a wechat.html ``page``: its title, article, images, cover."""
    from composer.plugins.wechat_mp.article import article_of

    article = article_of(page)
    images = []
    for match in IMG_SRC.finditer(article):
        url = html.unescape(match.group(2))
        if url not in images and not WECHAT_CDN.search(urlsplit(url).hostname or ""):
            images.append(url)
    cover = Path(config.cover).expanduser()
    if not cover.is_absolute() and ctx.workspace:
        cover = ctx.workspace / cover
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    title = html.unescape(title.group(1)).strip() if title else ""
    web = ctx.settings.newsletter.url
    source = config.content_source_url or (web.replace("{id}", issue_id) if web else "")
    return Plan(title or ctx.settings.newsletter.title, article, images, cover, source)


def page_of(delivery: Delivery) -> str:
    if OUTPUT not in delivery.outputs:
        raise DeliveryError(f"{OUTPUT} was not rendered (is the wechat_mp renderer turned off?)")
    return delivery.read(OUTPUT)


def digest_of(issue) -> str:
    """The first words of the issue, as the draft's summary (at most 120 characters)."""
    for item in issue.items():
        text = item.title or api.markdown_plain_text(
            item.text or (item.turns[0].text if item.turns else "")
        )
        text = " ".join(text.split())
        if text:
            return text if len(text) <= 120 else text[:119] + "…"
    return ""


WECHAT_URL = "x" * 200  # an image's address once uploaded (mmbiz.qpic.cn/...: ~120 characters)


def uploaded_size(plan: Plan) -> str:
    """The article as it will be sent: every image's address a WeChat one."""
    return IMG_SRC.sub(
        lambda m: (
            m.group(1) + WECHAT_URL + m.group(3)
            if html.unescape(m.group(2)) in plan.images
            else m.group(0)
        ),
        plan.article,
    )


def limit_problems(plan: Plan) -> list[api.Problem]:
    """What the draft API would refuse, before anything is sent."""
    from composer.plugins.wechat_mp.rules import MAX_TITLE, size_problem

    out = []
    too_big = size_problem(uploaded_size(plan), blocking=True)
    if too_big is not None:
        out.append(too_big)
    if len(plan.title) > MAX_TITLE:
        message = (
            f"the title is {len(plan.title)} characters; the draft API takes at most {MAX_TITLE}"
        )
        out.append(api.Problem("issue", "wechat-title", message))
    if not plan.cover.is_file():
        message = f"[delivery.wechat] cover: no file {plan.cover}"
        out.append(api.Problem("config", "wechat-cover", message))
    elif plan.cover.suffix.lower() not in COVER_TYPES:
        message = f"[delivery.wechat] cover: {plan.cover.name} is not jpg, png, gif or bmp"
        out.append(api.Problem("config", "wechat-cover", message))
    elif plan.cover.stat().st_size > COVER_MAX:
        message = f"[delivery.wechat] cover: {plan.cover.name} is over 10 MB (the API's limit)"
        out.append(api.Problem("config", "wechat-cover", message))
    elif not plan.cover.read_bytes()[:8].startswith(COVER_MAGIC):
        message = f"[delivery.wechat] cover: {plan.cover.name} is not a jpg, png, gif or bmp image"
        out.append(api.Problem("config", "wechat-cover", message))
    for url in plan.images:
        path = urlsplit(url).path.lower()
        if urlsplit(url).scheme not in ("http", "https"):
            message = f"image {url[:60]}: only http(s) images can be uploaded to WeChat"
            out.append(api.Problem(OUTPUT, "wechat-image", message))
        elif path.endswith((".gif", ".webp", ".svg", ".bmp", ".tif", ".tiff", ".avif")):
            message = (
                f"image {api.mask_url(url)[:80]}: uploadimg takes only jpg or png "
                "(under 1 MB): convert it, or link it instead of showing it"
            )
            out.append(api.Problem(OUTPUT, "wechat-image", message))
    if len(plan.source_url.encode()) > 1024:
        message = "content_source_url is over 1 KB (the API's limit)"
        out.append(api.Problem("config", "wechat-source-url", message))
    return out


class DraftDeliverer:
    """Pushes wechat.html into the account's draft box (one draft per issue)."""

    name = "wechat"
    config_key = TABLE
    config = WechatConfig

    def check(self, files, ctx) -> list[api.Problem]:
        """The draft API's limits, blocking: this target is configured."""
        if OUTPUT not in files:
            return [api.Problem(OUTPUT, "missing-output", f"{OUTPUT} is needed by [{TABLE}]")]
        plan = plan_of(files[OUTPUT], ctx.issue_id, ctx, ctx.config_for(TABLE))
        unset = (
            []
            if os.environ.get(SECRET_ENV)
            else [
                api.Problem(
                    "config", "secret-unset", f"[{TABLE}] needs ${SECRET_ENV} (the AppSecret)"
                )
            ]
        )
        return unset + limit_problems(plan)

    def describe(self, delivery: Delivery, ctx) -> str:
        from composer.plugins.wechat_mp.draft import describe_push

        config = ctx.config_for(TABLE)
        plan = plan_of(page_of(delivery), delivery.issue.id, ctx, config)
        return describe_push(plan, delivery.issue, ctx, config)

    def deliver(self, delivery: Delivery, ctx) -> str:
        from composer.plugins.wechat_mp.draft import push

        config = ctx.config_for(TABLE)
        secret = os.environ.get(SECRET_ENV, "")
        if not secret:
            raise DeliveryError(f"${SECRET_ENV} is empty: set it to the account's AppSecret")
        plan = plan_of(page_of(delivery), delivery.issue.id, ctx, config)
        blocking = limit_problems(plan)
        if blocking:
            raise DeliveryError(blocking[0].message)
        return push(plan, delivery.issue, ctx, config, secret, digest_of(delivery.issue))
