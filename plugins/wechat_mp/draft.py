"""The push itself: images, cover and draft, remembered in the ``wechat_mp`` state table.

Keys of the table: ``token:<app_id>`` (sealed token and its expiry),
``cover:<app_id>`` (the cover file's sha256 and its permanent media_id),
``image:<app_id>:<sha256>`` (the WeChat URL of an uploaded image),
``draft:<app_id>:<issue id>`` (the draft's media_id), ``adding:<app_id>:<issue id>``
(a draft/add sent whose answer never came: the next push looks for that draft in
the draft box before adding another).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import mimetypes
import os
import time
from urllib.parse import urlsplit

from composer import api
from composer.api import DeliveryError

STATE = "wechat_mp"
GONE = 40007  # draft/get: "invalid media_id", the draft was published or deleted
UNANSWERED_S = 24 * 3600  # an unanswered draft/add older than this is forgotten
PNG, JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"


@contextlib.contextmanager
def state_table(ctx):
    """The plugin's table (None when the command runs without a workspace)."""
    yield ctx.state.table(STATE) if ctx.state is not None else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe_push(plan, issue, ctx, config) -> str:
    """``--dry-run``: what a push would do, read from the state; no request is made."""
    from composer.plugins.wechat_mp.push import SECRET_ENV

    with state_table(ctx) as table:
        draft = table.get(f"draft:{config.app_id}:{issue.id}") if table is not None else None
        cover = table.get(f"cover:{config.app_id}") if table is not None else None
    target = (
        f"update draft {draft['media_id']} (a new one if it was published or deleted)"
        if draft
        else "a new draft"
    )
    if plan.cover.is_file():
        same = cover and cover.get("sha256") == _sha256(plan.cover.read_bytes())
        cover_line = f"cover {plan.cover.name} ({'uploaded before' if same else 'to upload'})"
    else:
        cover_line = f"cover {plan.cover} (missing!)"
    images = (
        f"{len(plan.images)} image(s) to upload: {', '.join(plan.images)}"
        if plan.images
        else "no images"
    )
    secret = "set" if os.environ.get(SECRET_ENV) else "NOT set"
    chars, size = len(plan.article), len(plan.article.encode("utf-8"))
    return (
        f"公众号 {config.app_id} at {api.mask_url(config.api_url)}: {target}; "
        f"title {plan.title!r} ({len(plan.title)} characters); article {chars:,} characters, "
        f"{size / 1024:.1f} KB; {images}; {cover_line}; ${SECRET_ENV} {secret}"
    )


def push(plan, issue, ctx, config, secret: str, digest: str) -> str:
    """Upload what the article needs and add (or update) its draft; returns the target."""
    from composer.plugins.wechat_mp.client import ApiError, WechatApi, explain
    from composer.plugins.wechat_mp.rules import size_problem
    from composer.plugins.wechat_mp.tokens import TokenCache

    with state_table(ctx) as table, api.http_client(timeout=config.timeout) as session:
        tokens = TokenCache(table, config.app_id, config.api_url, secret)
        wx = WechatApi(session, config.api_url, config.app_id, secret, tokens, config.timeout)
        step = "token"
        try:
            wx.token()
            step = "images"
            article = upload_images(wx, session, table, plan, config)
            too_long = size_problem(article, blocking=True)
            if too_long is not None:  # the uploaded images' URLs made it longer
                raise DeliveryError(f"draft: {too_long.message}")
            step = "cover"
            thumb, cover_new = cover_id(wx, table, plan, config)
            step = "draft"
            fields = {
                "title": plan.title,
                "author": config.author,
                "digest": digest,
                "content": article,
                "content_source_url": plan.source_url,
                "thumb_media_id": thumb,
                "need_open_comment": int(config.need_open_comment),
                "only_fans_can_comment": int(config.only_fans_can_comment),
            }
            media_id, how = save_draft(wx, table, plan, config, issue.id, fields, cover_new)
        except ApiError as exc:
            raise DeliveryError(explain(exc, step)) from None
    return f"公众号草稿箱 {config.app_id}: draft {media_id} ({how})"


def upload_images(wx, session, table, plan, config) -> str:
    """The article with every image on WeChat's servers (uploaded once per content)."""
    uploaded: dict[str, str] = {}
    for url in plan.images:
        data = download(session, url, config.timeout)
        key = f"image:{config.app_id}:{_sha256(data)}"
        known = table.get(key) if table is not None else None
        if not known:
            kind = "png" if data.startswith(PNG) else "jpg"
            answer = wx.upload("/cgi-bin/media/uploadimg", f"image.{kind}", data, f"image/{kind}")
            known = str(answer.get("url") or "")
            if not known:
                raise DeliveryError(f"images: uploadimg gave no URL for {url}")
            if table is not None:
                table.put(key, known)
        uploaded[url] = known

    def swap(match) -> str:
        new = uploaded.get(html.unescape(match.group(2)))
        return match.group(1) + html.escape(new, quote=True) + match.group(3) if new else match[0]

    from composer.plugins.wechat_mp.push import IMG_SRC

    return IMG_SRC.sub(swap, plan.article)


def download(session, url: str, timeout: float) -> bytes:
    """An image of the article, through the network policy, jpg or png under 1 MB."""
    from composer.plugins.wechat_mp.push import IMAGE_MAX

    shown = api.mask_url(url)
    try:
        fetched = api.fetch(session, url, timeout, IMAGE_MAX)
    except api.FetchError as exc:
        raise DeliveryError(f"images: {shown}: {exc}") from None
    if fetched.status != 200:
        raise DeliveryError(f"images: {shown}: HTTP {fetched.status}")
    if len(fetched.content) > IMAGE_MAX:
        raise DeliveryError(f"images: {shown} is 1 MB or more: uploadimg takes jpg/png under 1 MB")
    data = fetched.content
    if not data.startswith((PNG, JPEG)):
        raise DeliveryError(
            f"images: {shown} is not a jpg or png (uploadimg takes only those): "
            "convert it, or link it instead of showing it"
        )
    return data


def cover_id(wx, table, plan, config, fresh: bool = False) -> tuple[str, bool]:
    """(the cover's permanent media_id, whether it was uploaded now): uploaded when
    its file is new or changed, or ``fresh``."""
    data = plan.cover.read_bytes()
    key = f"cover:{config.app_id}"
    known = table.get(key) if table is not None else None
    if not fresh and known and known.get("sha256") == _sha256(data):
        return str(known["media_id"]), False
    mime = mimetypes.guess_type(plan.cover.name)[0] or "image/jpeg"
    answer = wx.upload(
        "/cgi-bin/material/add_material", plan.cover.name, data, mime, {"type": "image"}
    )
    media_id = str(answer.get("media_id") or "")
    if not media_id:
        raise DeliveryError("cover: add_material gave no media_id")
    if table is not None:
        table.put(key, {"sha256": _sha256(data), "media_id": media_id, "file": plan.cover.name})
    return media_id, True


def save_draft(
    wx, table, plan, config, issue_id: str, fields: dict, cover_uploaded: bool = False
) -> tuple[str, str]:
    """(media_id, "new"|"updated"): the issue's one draft, updated while WeChat has it.

    A refused media id (40007) is the cover's when the draft is there: it is uploaded
    again once, unless this run just uploaded it."""
    from composer.plugins.wechat_mp.client import ApiError

    key = f"draft:{config.app_id}:{issue_id}"
    known = table.get(key) if table is not None else None
    if not known:
        known = _unanswered_add(wx, table, config, issue_id, fields["title"])
    for attempt in (1, 2):
        try:
            if known and _draft_exists(wx, known["media_id"]):
                payload = {"media_id": known["media_id"], "index": 0, "articles": fields}
                wx.call("/cgi-bin/draft/update", payload)
                _remember(table, key, known["media_id"], config)
                return str(known["media_id"]), "updated"
            answer = _add(wx, table, config, issue_id, fields)
        except ApiError as exc:
            if exc.code != GONE or attempt == 2 or cover_uploaded:
                raise
            # the draft is there, so the refused media id is the cover's: upload it again
            fields["thumb_media_id"], cover_uploaded = cover_id(wx, table, plan, config, True)
            continue
        media_id = str(answer.get("media_id") or "")
        if not media_id:
            raise DeliveryError("draft: draft/add gave no media_id")
        _remember(table, key, media_id, config)
        return media_id, "new"
    raise AssertionError("unreachable")


def _add(wx, table, config, issue_id: str, fields: dict) -> dict:
    """draft/add, with a note in the table while its answer is awaited."""
    from composer.plugins.wechat_mp.client import ApiError

    adding = f"adding:{config.app_id}:{issue_id}"
    if table is not None:
        table.put(adding, {"title": fields["title"], "since": time.time()})
    try:
        answer = wx.call("/cgi-bin/draft/add", {"articles": [fields]})
    except ApiError as exc:
        if exc.code is not None and table is not None:  # refused: no draft was made
            table.delete(adding)
        raise
    if table is not None:
        table.delete(adding)
    return answer


def _remember(table, key: str, media_id, config) -> None:
    if table is not None:
        table.put(key, {"media_id": str(media_id), "host": urlsplit(config.api_url).netloc})


def _unanswered_add(wx, table, config, issue_id: str, title: str) -> dict | None:
    """The draft a draft/add whose answer never came may have made (found in the draft
    box by its title, saved since); None when there was no such add. When the box
    cannot be searched, nothing is added twice: the push stops and says why."""
    from composer.plugins.wechat_mp.client import ApiError

    adding = table.get(f"adding:{config.app_id}:{issue_id}") if table is not None else None
    if not adding or time.time() - float(adding.get("since", 0)) > UNANSWERED_S:
        return None
    try:
        answer = wx.call("/cgi-bin/draft/batchget", {"offset": 0, "count": 20, "no_content": 1})
    except ApiError as exc:
        raise DeliveryError(
            f"draft: the last draft/add for {issue_id} got no answer and the draft box could "
            f"not be searched ({exc.message}): look there; delete a draft it may have made, "
            "then send again within a day, or wait a day"
        ) from None
    since = float(adding.get("since", 0)) - 120
    for entry in answer.get("item") or []:
        news = (entry.get("content") or {}).get("news_item") or [{}]
        if news[0].get("title") == title and float(entry.get("update_time") or 0) >= since:
            return {"media_id": str(entry.get("media_id"))}
    return None


def _draft_exists(wx, media_id: str) -> bool:
    from composer.plugins.wechat_mp.client import ApiError

    try:
        wx.call("/cgi-bin/draft/get", {"media_id": media_id})
    except ApiError as exc:
        if exc.code == GONE:
            return False
        raise
    return True
