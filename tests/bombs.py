"""Compression bombs and a server for them on 127.0.0.1 (tests/test_network.py, bench/bombs.py).

A bomb is valid, complete data that inflates to a huge run of zeros: a gzip member
of N zeros is built from one deflate segment (1 MiB of zeros after a full flush)
repeated, so an 8 GiB bomb is made in about two seconds without compressing 8 GiB.
"""

from __future__ import annotations

import struct
import threading
import zlib
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MIB = 1 << 20
GIB = 1 << 30


@cache
def _segment() -> bytes:
    """Raw deflate of 1 MiB of zeros, ending on a full flush (so it can repeat)."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    return squeeze.compress(bytes(MIB)) + squeeze.flush(zlib.Z_FULL_FLUSH)


def _crc_of_zeros(size: int) -> int:
    block, crc = bytes(64 * MIB), 0
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    return zlib.crc32(bytes(size % len(block)), crc)


def gzip_zeros(size: int) -> bytes:
    """A gzip member of ``size`` zeros (a multiple of 1 MiB)."""
    assert size % MIB == 0
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    final = b"\x03\x00"  # an empty final fixed-Huffman block
    trailer = struct.pack("<II", _crc_of_zeros(size), size & 0xFFFFFFFF)
    return header + _segment() * (size // MIB) + final + trailer


def zlib_zeros(size: int) -> bytes:
    """The zlib ("deflate" content-coding) stream of ``size`` zeros."""
    assert size % MIB == 0
    adler = 1
    for _ in range(size // MIB):
        adler = zlib.adler32(bytes(MIB), adler)
    return b"\x78\xda" + _segment() * (size // MIB) + b"\x03\x00" + struct.pack(">I", adler)


def gzip(data: bytes) -> bytes:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    return squeeze.compress(data) + squeeze.flush()


def deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def bombs(size: int, double: int) -> dict[str, tuple[str, bytes]]:
    """{path: (Content-Encoding, body)}: one layer of ``size`` zeros, and stacked
    layers around ``double`` zeros."""
    inner = gzip_zeros(double)
    return {
        "/gzip": ("gzip", gzip_zeros(size)),
        "/deflate": ("deflate", zlib_zeros(size)),
        "/gzip-gzip": ("gzip, gzip", gzip(inner)),
        "/gzip-identity-deflate": ("gzip, identity, deflate", deflate(inner)),
    }


def serve(routes: dict[str, tuple[str, bytes]], extra=None) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 answering each path with its (Content-Encoding, body);
    ``extra`` maps more paths to (content type, body) sent as they are."""
    extra = extra or {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path in routes:
                encoding, body = routes[self.path]
                kind = "application/rss+xml"
            elif self.path in extra:
                (kind, body), encoding = extra[self.path], ""
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:  # the client gave up: that is the point
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
