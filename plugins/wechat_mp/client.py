"""The 公众号 API as the draft deliverer uses it, through ``composer.api.http_client``.

- Every answer is JSON with HTTP 200; a failure is ``{"errcode": N, "errmsg": ...}``.
  Each becomes one :class:`ApiError`, and :func:`explain` turns it into the line
  the editor reads, with what to do for the common codes.
- JSON bodies are sent as UTF-8 with Chinese as is (``ensure_ascii=False``): the
  draft API stores ``\\uXXXX`` escapes literally (its documentation says so for
  title and author; the global code 40033 refuses such characters).
- The access token comes from ``POST /cgi-bin/stable_token`` (the secret travels in
  the body, never in a URL), is cached sealed (``tokens.py``) until shortly before
  it expires, and is fetched again once, the call repeated, when the API says
  it is no longer valid (40001, 40014, 42001).
- Nothing here prints or stores the secret or a token; every message passes
  :meth:`WechatApi.mask`, and httpx's own log lines have the token masked.
- A call never follows a redirect (it would re-send the secret or the content
  elsewhere); each answer must arrive whole within ``timeout`` seconds and 5 MB.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time

from composer import api

TOKEN_ERRORS = {40001, 40014, 42001}
TOKEN_PATH = "/cgi-bin/stable_token"
ANSWER_MAX = 5_000_000
TOKEN_LIFE = 7200.0  # seconds, the documented life of a token (and the most we believe)
FRESH_S = 5.0  # a token this young that is refused will not be better fetched again
MASKED = re.compile(r"(access_token=)[^&\s\"']+")


class ApiError(Exception):
    """An errcode answer (or a transport failure: code None)."""

    def __init__(self, endpoint: str, code: int | None, message: str) -> None:
        super().__init__(f"{endpoint}: {message}")
        self.endpoint, self.code, self.message = endpoint, code, message


class _MaskTokens(logging.Filter):
    """httpx logs every request URL at INFO: never with the token in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg, record.args = MASKED.sub(r"\1***", message), ()
        return True


def _mask_http_logs() -> None:
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _MaskTokens) for f in logger.filters):
            logger.addFilter(_MaskTokens())


class WechatApi:
    """One account's API at ``api_url`` with one HTTP session."""

    def __init__(self, session, api_url: str, app_id: str, secret: str, tokens, timeout: float):
        self.session, self.base = session, api_url.rstrip("/")
        self.app_id, self.secret, self.tokens, self.timeout = app_id, secret, tokens, timeout
        self._token: str | None = None
        self._seen: set[str] = set()  # every token this run held, masked in messages
        self._fetched_at = -math.inf  # when this run last fetched a token (monotonic)
        _mask_http_logs()

    def mask(self, text: str) -> str:
        for value in sorted({self.secret, *self._seen}, key=len, reverse=True):
            if value:
                text = text.replace(value, "***")
        return MASKED.sub(r"\1***", text)

    # -- the token -----------------------------------------------------------------
    def token(self, fresh: bool = False) -> str:
        if self._token and not fresh:
            return self._token
        cached = None if fresh else self.tokens.get()
        if cached:
            self._token = cached
            self._seen.add(cached)
            return cached
        payload = {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret}
        answer = self._post(TOKEN_PATH, self._json(payload), {"Content-Type": JSON})
        token = str(answer.get("access_token") or "")
        if not token:
            raise ApiError(TOKEN_PATH, None, "the answer has no access_token")
        self._token, self._fetched_at = token, time.monotonic()
        self._seen.add(token)
        self.tokens.put(token, _life(answer.get("expires_in")))
        return token

    # -- calls ---------------------------------------------------------------------
    def call(self, path: str, payload: dict, params: dict | None = None) -> dict:
        """POST ``payload`` as JSON to ``path``; returns the answer or raises ApiError."""
        body = self._json(payload)
        return self._with_token(path, params, lambda q: self._post(path, body, JSON_HEADERS, q))

    def upload(self, path: str, filename: str, data: bytes, mime: str, params=None) -> dict:
        """POST ``data`` as the multipart field ``media`` (how uploadimg and
        add_material take a file)."""
        files = {"media": (filename, data, mime)}
        return self._with_token(path, params, lambda q: self._post(path, None, {}, q, files))

    def _with_token(self, path: str, params: dict | None, send) -> dict:
        token = self.token()  # its own failure is not a refused token
        try:
            return send({**(params or {}), "access_token": token})
        except ApiError as exc:
            if exc.code not in TOKEN_ERRORS or time.monotonic() - self._fetched_at < FRESH_S:
                raise
        self.tokens.drop()  # it expired or was replaced: fetch a new one, try once more
        return send({**(params or {}), "access_token": self.token(fresh=True)})

    @staticmethod
    def _json(payload: dict) -> bytes:
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _post(self, path, body, headers, params=None, files=None) -> dict:
        try:
            got = api.http_request(
                self.session,
                "POST",
                self.base + path,
                self.timeout,
                ANSWER_MAX,
                follow_redirects=False,
                headers=headers,
                params=params,
                content=body,
                files=files,
            )
        except api.FetchError as exc:
            raise ApiError(path, None, self.mask(str(exc))) from None
        if 300 <= got.status < 400:
            where = api.mask_url(got.headers.get("location", "?"))
            raise ApiError(path, None, f"HTTP {got.status}: a redirect to {where} (check api_url)")
        if got.status != 200:
            raise ApiError(path, None, f"HTTP {got.status}")
        try:
            answer = json.loads(got.content.decode("utf-8"))
        except (ValueError, RecursionError):  # bad UTF-8 or JSON, 5000-digit numbers, nesting
            raise ApiError(path, None, "the answer is not JSON we can read") from None
        if not isinstance(answer, dict):
            raise ApiError(path, None, "the answer is not a JSON object")
        code = answer.get("errcode", 0)
        if code not in (0, None):
            message = self.mask(api.clean_line(str(answer.get("errmsg", "")), 300))
            shown = code if isinstance(code, str) else type(code).__name__
            if not (isinstance(code, int) or str(code).lstrip("-").isdigit()) or len(shown) > 12:
                raise ApiError(path, None, f"an unexpected answer (errcode {shown[:20]!r})")
            raise ApiError(path, int(code), message)
        return answer


def _life(value) -> float:
    """``expires_in`` as seconds a token may be cached: at most 7200, and 0 (not
    cached) when it is not a positive finite number."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 0.0
    return min(seconds, TOKEN_LIFE) if math.isfinite(seconds) and seconds > 0 else 0.0


JSON = "application/json; charset=utf-8"
JSON_HEADERS = {"Content-Type": JSON}


def explain(exc: ApiError, what: str) -> str:
    """One line for the editor: what failed, the API's words, and what to do."""
    code, message = exc.code, exc.message
    if code is None:
        return f"{what}: {exc.endpoint}: {message}"
    hint = HINTS.get(code, "")
    if code == 40164:
        ip = re.search(r"invalid ip ([0-9a-fA-F.:]+)", message)
        shown = ip.group(1).rstrip(",") if ip else "this machine's address"
        hint = (
            f"add {shown} to the account's IP whitelist (公众号后台 → 设置与开发 → "
            "基本配置 → IP白名单), wait a few minutes, then send again"
        )
    elif code == 40001 and exc.endpoint == TOKEN_PATH:
        hint = HINTS[40125]
    elif code in TOKEN_ERRORS:
        hint = "the access token was refused even after fetching a new one: send again later"
    return f"{what}: {exc.endpoint} errcode {code} ({message}){'; ' + hint if hint else ''}"


HINTS = {
    -1: "WeChat is busy: send again in a minute",
    40013: "app_id in [delivery.wechat] is not this account's AppID (基本配置 → 开发者ID)",
    40125: (
        "$COMPOSER_WECHAT_SECRET is not the account's AppSecret "
        "(基本配置 → 开发者密码; reset it there if nobody knows it)"
    ),
    45009: (
        "the account's daily API quota is used up: send again tomorrow "
        "(or reset it in the 公众号后台 → 接口权限)"
    ),
    40007: (
        "a media id was refused: the cover material or the draft may have been deleted; "
        "send again and both are made anew"
    ),
    45002: "the article is too long for the API: `composer check` names the largest sections",
    45003: "the title is too long (at most 32 characters)",
    45004: "the digest is too long (at most 128 characters)",
    40005: "the image is not a jpg or png",
    40009: "the image is too large (uploadimg takes jpg/png under 1 MB)",
    48001: "this account may not use this API (公众号后台 → 设置与开发 → 接口权限)",
}
