"""Heavy libraries imported without the parts we never use (each measured to pay).

``import httpx`` pulls in its command-line client (rich, pygments: ~55 ms here);
``import premailer`` pulls in ``requests`` (~50 ms) only to fetch external
stylesheets, which we never allow. A stub stands in while each library loads, and
``sys.modules`` is restored after, so a later real import is unaffected.
"""

from __future__ import annotations

import importlib
import sys
import types


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


def import_premailer():
    """premailer, without paying for ``requests`` (~50 ms) at import.

    premailer imports requests only to fetch external stylesheets, which we never
    allow (allow_network=False). While premailer is imported, ``requests`` is a stub
    whose attributes load the real module on first use; sys.modules is restored after.
    """
    if "premailer" in sys.modules or "requests" in sys.modules:
        import premailer

        return premailer
    stub = types.ModuleType("requests")

    def forward(attr: str):
        real = importlib.import_module("requests")
        return getattr(real, attr)

    stub.__getattr__ = forward
    sys.modules["requests"] = stub
    try:
        import premailer
    finally:
        del sys.modules["requests"]
    return premailer
