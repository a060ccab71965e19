"""All network access: one httpx configuration, a User-Agent naming the project,
a whole-request timeout, a size cap, redirects with a limit, only http and https."""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from composer import __version__

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
    reason: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"not an http(s) URL: {url!r} (only http and https are fetched)")


def import_httpx():
    """httpx, without the command-line client it imports by default.

    ``import httpx`` also imports ``httpx._main`` (rich, pygments: ~30 ms) for the
    ``httpx`` command, which we never run; a stub stands in while httpx loads.
    """
    if "httpx" in sys.modules:
        return sys.modules["httpx"]
    stub = types.ModuleType("httpx._main")
    stub.main = lambda: None
    sys.modules["httpx._main"] = stub
    try:
        import httpx
    finally:
        if sys.modules.get("httpx._main") is stub:
            del sys.modules["httpx._main"]
    return httpx


def ssl_context():
    """The CA bundle httpx would use ($SSL_CERT_FILE, $SSL_CERT_DIR, else certifi's)."""
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def client(concurrency: int = 1, timeout: float = 15.0):
    """An httpx.Client with our rules, shared by the threads of one run.

    The CA certificates load on a thread while httpx imports (OpenSSL releases the GIL).
    """
    loaded: list = []
    loader = threading.Thread(target=lambda: loaded.append(ssl_context()), daemon=True)
    loader.start()
    httpx = import_httpx()
    loader.join()
    return httpx.Client(
        verify=loaded[0] if loaded else ssl_context(),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        timeout=httpx.Timeout(timeout),
    )


def fetch(
    session,
    url: str,
    timeout: float,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    params: dict | None = None,
) -> Fetched:
    """GET ``url`` with ``session`` (see :func:`client`), reading at most ``max_bytes``.

    Every wait is bounded by ``timeout`` and the body must be complete within it
    (a server trickling bytes is cut off too). A 4xx/5xx answer is returned, not
    raised, so callers can read error bodies.
    """
    httpx = import_httpx()
    check_url(url)
    deadline = time.monotonic() + timeout
    timed_out = FetchError(f"timed out after {timeout:g} s")
    try:
        with session.stream(
            "GET", url, headers=headers or {}, params=params, timeout=timeout
        ) as response:
            check_url(str(response.url))
            chunks, size = [], 0
            if response.status_code != 304:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"body larger than {max_bytes:,} bytes: cut off")
                    if time.monotonic() > deadline:
                        raise timed_out
                    chunks.append(chunk)
            return Fetched(
                url,
                response.status_code,
                b"".join(chunks),
                dict(response.headers),
                str(response.url),
                response.reason_phrase,
            )
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects (a redirect loop?)") from None
    except httpx.TimeoutException:
        raise timed_out from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None


def get(
    url: str, timeout: float = 15.0, max_bytes: int = 5_000_000, params: dict | None = None
) -> Fetched:
    """One GET with the same rules (for the arXiv API, ``composer add``)."""
    with client(timeout=timeout) as session:
        return fetch(session, url, timeout, max_bytes, params=params)


def __getattr__(name: str):
    """``HTTPError``: httpx's base error, imported on first use."""
    if name == "HTTPError":
        return import_httpx().HTTPError
    raise AttributeError(name)
