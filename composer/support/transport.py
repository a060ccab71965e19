"""The httpx transport under every :func:`composer.support.http.client`.

- Each hop (the first request and every redirect) is checked by
  :mod:`composer.support.netpolicy` before anything is sent.
- Connections go to the vetted addresses (a network backend that connects to the
  addresses the policy saw; TLS still verifies the URL's host name).
- Bodies are decoded here, layer by layer in bounded steps (:mod:`.decoding`), and
  cut off past the request's :class:`~composer.support.http.Budget`: httpx never sees
  a Content-Encoding, so it never inflates anything itself.

Imported only when a client is made (httpx and httpcore load with it).
"""

from __future__ import annotations

import httpcore

from composer.support import netpolicy
from composer.support.decoding import Decoder
from composer.support.http import BUDGET, Budget, check_url
from composer.support.shims import import_httpx

httpx = import_httpx()
HOP = "composer.hop_public"  # request extension: was the previous hop public?


class VettedBackend(httpcore.NetworkBackend):
    """Connects to the addresses :class:`netpolicy.Lookups` vetted for the host name."""

    def __init__(self, lookups: netpolicy.Lookups) -> None:
        self._lookups = lookups
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = self._lookups.vetted(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return self._sockets.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure  # type: ignore[misc]  (vetted() never returns an empty list)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class PolicyTransport(httpx.HTTPTransport):
    """httpx's transport with the network policy, vetted connections, bounded bodies."""

    def __init__(self, ssl_context, limits, max_bytes: int) -> None:
        super().__init__(verify=ssl_context, limits=limits)
        self._lookups = netpolicy.Lookups()
        self._max_bytes = max_bytes
        self._pool = httpcore.ConnectionPool(  # the same pool, with our network backend
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=VettedBackend(self._lookups),
        )

    def handle_request(self, request):
        url = request.url
        check_url(str(url))
        host = url.raw_host.decode("ascii")
        try:
            addresses = self._lookups.vetted(
                host, url.port or (443 if url.scheme == "https" else 80)
            )
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from None
        netpolicy.vet_redirect(request.extensions.get(HOP, False), host, addresses)
        request.extensions[HOP] = any(netpolicy.is_public(a) for a in addresses)  # to the next hop
        response = super().handle_request(request)
        budget = request.extensions.get(BUDGET) or Budget(self._max_bytes)
        codings = response.headers.get_list("content-encoding", split_commas=True)
        headers = [(k, v) for k, v in response.headers.raw if k.lower() != b"content-encoding"]
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=BoundedStream(response.stream, codings, budget),
            extensions=response.extensions,
        )


class BoundedStream(httpx.SyncByteStream):
    """The decoded body, checked against its budget between every two steps."""

    def __init__(self, raw, codings: list[str], budget: Budget) -> None:
        self._raw = raw
        self._codings = codings
        self._budget = budget

    def __iter__(self):
        budget, decoder, size = self._budget, None, 0
        for chunk in self._raw:
            budget.check()
            if not chunk:
                continue
            decoder = decoder or Decoder(self._codings)
            for piece in decoder.feed(chunk):
                size += len(piece)
                budget.check(size)
                yield piece
        for piece in decoder.finish() if decoder else ():
            size += len(piece)
            budget.check(size)
            yield piece

    def close(self) -> None:
        self._raw.close()
