"""All network access: one httpx configuration, a User-Agent naming the project,
a whole-request timeout, a size cap, redirects with a limit, only http and https."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import __version__

USER_AGENT = f"newsletter-composer/{__version__} (+https://pypi.org/project/newsletter-composer/)"
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A fetch that failed; ``str()`` is the reason an editor can act on."""


@dataclass
class Fetched:
    url: str
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    final_url: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"not an http(s) URL: {url!r} (only http and https are fetched)")


def async_client(concurrency: int = 16):
    import httpx

    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        timeout=httpx.Timeout(30.0),
    )


async def fetch(
    client, url: str, timeout: float, max_bytes: int, headers: dict[str, str] | None = None
) -> Fetched:
    """GET ``url`` within ``timeout`` seconds in all, reading at most ``max_bytes``."""
    check_url(url)
    try:
        return await asyncio.wait_for(_get(client, url, max_bytes, headers or {}), timeout)
    except TimeoutError:
        raise FetchError(f"timed out after {timeout:g} s") from None


async def _get(client, url: str, max_bytes: int, headers: dict[str, str]) -> Fetched:
    import httpx

    try:
        async with client.stream("GET", url, headers=headers) as response:
            final = str(response.url)
            if response.status_code == 304:
                return Fetched(url, 304, b"", dict(response.headers), final)
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
            check_url(final)
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"body larger than {max_bytes:,} bytes: cut off")
                chunks.append(chunk)
            return Fetched(
                url, response.status_code, b"".join(chunks), dict(response.headers), final
            )
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects (a redirect loop?)") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None


def get(
    url: str, timeout: float = 15.0, max_bytes: int = 5_000_000, params: dict | None = None
) -> Fetched:
    """One synchronous GET with the same rules (for the arXiv API, ``composer add``).

    A 4xx/5xx answer is returned, not raised, so callers can read error bodies.
    """
    import httpx

    check_url(url)
    try:
        with httpx.Client(
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            timeout=timeout,
        ) as client:
            with client.stream("GET", url, params=params) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"body larger than {max_bytes:,} bytes: cut off")
                    chunks.append(chunk)
                return Fetched(
                    url,
                    response.status_code,
                    b"".join(chunks),
                    dict(response.headers),
                    str(response.url),
                )
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects (a redirect loop?)") from None
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
