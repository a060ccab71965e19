"""Content-Encoding layers decoded in bounded steps: no step outputs more than ``STEP``
bytes, so a compression bomb is stopped by the caller's size cap, not by memory.

gzip (and x-gzip), deflate (zlib-wrapped or raw) and identity, stacked in any order;
br too when the ``brotli`` package (1.2 or later, which can bound its output) is
installed. Anything else is refused, as are more than ``MAX_LAYERS`` layers.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from functools import cache

from composer.support.http import FetchError

STEP = 64 * 1024
MAX_LAYERS = 4


@cache
def _brotli():
    """The brotli module, when installed and able to bound its output; else None."""
    try:
        import brotli
    except ImportError:
        return None
    return brotli if hasattr(brotli.Decompressor(), "can_accept_more_data") else None


def supported() -> list[str]:
    """The content-codings we decode, as sent in Accept-Encoding."""
    return ["gzip", "deflate"] + (["br"] if _brotli() else [])


class _Zlib:
    def __init__(self, wbits: int, name: str) -> None:
        self._inflate = zlib.decompressobj(wbits)
        self._name = name

    def feed(self, data: bytes) -> Iterator[bytes]:
        inflate = self._inflate
        while not inflate.eof:
            try:
                out = inflate.decompress(data, STEP)
            except zlib.error as exc:
                raise FetchError(f"bad {self._name} data: {exc}") from None
            data = inflate.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < STEP:
                return

    def finish(self) -> Iterator[bytes]:
        return self.feed(b"")


class _Deflate:
    """RFC 9110 says zlib-wrapped; some servers send raw deflate. The header tells."""

    def __init__(self) -> None:
        self._head = b""
        self._inner: _Zlib | None = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._inner is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            wrapped = data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0
            self._inner = _Zlib(15 if wrapped else -15, "deflate")
        yield from self._inner.feed(data)

    def finish(self) -> Iterator[bytes]:
        if self._inner is None:
            self._inner = _Zlib(-15, "deflate")
            yield from self._inner.feed(self._head)
        yield from self._inner.finish()


class _Brotli:
    def __init__(self) -> None:
        self._module = _brotli()
        self._decompress = self._module.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        brotli = self._decompress
        if brotli.is_finished():
            return
        try:
            out = brotli.process(data, output_buffer_limit=STEP)
            while True:
                if out:
                    yield out
                if brotli.can_accept_more_data() or brotli.is_finished():
                    return
                out = brotli.process(b"", output_buffer_limit=STEP)
        except self._module.error as exc:
            raise FetchError(f"bad br data: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        return iter(())


LAYERS = {
    "gzip": lambda: _Zlib(31, "gzip"),
    "x-gzip": lambda: _Zlib(31, "gzip"),
    "deflate": _Deflate,
    "br": _Brotli,
}


class Decoder:
    """Decodes the layers named by Content-Encoding (applied in the order listed)."""

    def __init__(self, codings: list[str]) -> None:
        names = [c.strip().lower() for c in codings]
        names = [n for n in names if n and n != "identity"]
        known = supported() + ["x-gzip"]
        for name in names:
            if name not in known:
                accepted = ", ".join(supported() + ["identity"])
                raise FetchError(f"unsupported Content-Encoding {name!r} (we decode {accepted})")
        if len(names) > MAX_LAYERS:
            raise FetchError(f"{len(names)} Content-Encoding layers (at most {MAX_LAYERS})")
        self._layers = [LAYERS[name]() for name in reversed(names)]

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of ``data`` (each at most ``STEP`` bytes), produced lazily."""
        return _through(self._layers, data)

    def finish(self) -> Iterator[bytes]:
        """What the layers still hold once the body has ended."""
        for index, layer in enumerate(self._layers):
            for piece in layer.finish():
                yield from _through(self._layers[index + 1 :], piece)


def _through(layers: list, data: bytes) -> Iterator[bytes]:
    if not layers:
        if data:
            yield data
        return
    for piece in layers[0].feed(data):
        yield from _through(layers[1:], piece)
