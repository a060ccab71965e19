"""All network access: one httpx configuration, a User-Agent naming the project,
a whole-request timeout, a size cap on decoded bytes, redirects with a limit, only
http and https, and the network policy of :mod:`composer.support.netpolicy`.

Every :func:`client` carries :class:`composer.support.transport.PolicyTransport`:
each hop is vetted on its resolved addresses before connecting, the connection goes
to a vetted address, and bodies are decoded in bounded steps against a
:class:`Budget`. Environment proxies are not used (the policy must see the address
it connects to). Tests replace the DNS hook ``netpolicy.resolve``.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from composer import __version__
from composer.support.shims import import_httpx

USER_AGENT = f"newsletter-composer/{__version__} (+https://pypi.org/project/newsletter-composer/)"
MAX_REDIRECTS = 5
MAX_BYTES = 5_000_000  # for requests made without a Budget (the webhook's answer)
BUDGET = "composer.budget"  # request extension carrying the Budget


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


@dataclass
class Budget:
    """How much one request may cost: decoded bytes, seconds, and a stop flag.

    Checked between every two decoding steps, so a fetch given up on really stops.
    """

    max_bytes: int
    timeout: float | None = None
    stop: threading.Event | None = None
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.timeout if self.timeout else float("inf")

    def check(self, size: int = 0) -> None:
        if size > self.max_bytes:
            raise FetchError(f"body larger than {self.max_bytes:,} bytes once decoded: cut off")
        if self.stop is not None and self.stop.is_set():
            raise FetchError("given up: the run stopped waiting for it")
        if time.monotonic() > self.deadline:
            raise FetchError(f"timed out after {self.timeout:g} s")


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"not an http(s) URL: {url!r} (only http and https are fetched)")


def ssl_context():
    """The CA bundle httpx would use ($SSL_CERT_FILE, $SSL_CERT_DIR, else certifi's)."""
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def client(concurrency: int = 1, timeout: float = 15.0, max_bytes: int = MAX_BYTES):
    """An httpx.Client with our rules, shared by the threads of one run.

    ``max_bytes`` caps the decoded body of a request sent without a :class:`Budget`
    (:func:`fetch` sends one). The CA certificates load on a thread while httpx
    imports (OpenSSL releases the GIL).
    """
    loaded: list = []
    loader = threading.Thread(target=lambda: loaded.append(ssl_context()), daemon=True)
    loader.start()
    httpx = import_httpx()
    from composer.support.decoding import supported
    from composer.support.transport import PolicyTransport

    loader.join()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = PolicyTransport(loaded[0] if loaded else ssl_context(), limits, max_bytes)
    return httpx.Client(
        transport=transport,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ", ".join(supported())},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout),
    )


def fetch(
    session,
    url: str,
    timeout: float,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    params: dict | None = None,
    stop: threading.Event | None = None,
) -> Fetched:
    """GET ``url`` with ``session`` (see :func:`client`), reading at most ``max_bytes``
    once decoded.

    Every wait is bounded by ``timeout`` and the body must be complete within it
    (a server trickling bytes is cut off too); setting ``stop`` abandons the fetch
    at the next decoding step. A 4xx/5xx answer is returned, not raised, so callers
    can read error bodies. A refused address or an oversized body raises FetchError.
    """
    return request(
        session, "GET", url, timeout, max_bytes, headers=headers, params=params, stop=stop
    )


def request(
    session,
    method: str,
    url: str,
    timeout: float,
    max_bytes: int,
    *,
    follow_redirects: bool = True,
    headers: dict[str, str] | None = None,
    params: dict | None = None,
    content: bytes | None = None,
    files: dict | None = None,
    stop: threading.Event | None = None,
) -> Fetched:
    """One request with :func:`fetch`'s bounds: the answer whole within ``timeout``
    seconds and ``max_bytes`` decoded. With ``follow_redirects=False`` (an API call:
    a redirect would re-send the request, and its secrets, elsewhere) a 3xx answer is
    returned as it is. Every failure of the transport is a FetchError."""
    httpx = import_httpx()
    check_url(url)
    budget = Budget(max_bytes, timeout, stop)
    try:
        with session.stream(
            method,
            url,
            headers=headers or {},
            params=params,
            content=content,
            files=files,
            timeout=timeout,
            follow_redirects=follow_redirects,
            extensions={BUDGET: budget},
        ) as response:
            chunks = [] if response.status_code == 304 else list(response.iter_raw())
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
        raise FetchError(f"timed out after {timeout:g} s") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None


def get(
    url: str, timeout: float = 15.0, max_bytes: int = MAX_BYTES, params: dict | None = None
) -> Fetched:
    """One GET with the same rules (for the arXiv API, ``composer add``)."""
    with client(timeout=timeout, max_bytes=max_bytes) as session:
        return fetch(session, url, timeout, max_bytes, params=params)


def __getattr__(name: str):
    """``HTTPError``: httpx's base error, imported on first use."""
    if name == "HTTPError":
        return import_httpx().HTTPError
    raise AttributeError(name)
