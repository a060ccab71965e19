"""Test-only: a DNS table for the policy's resolver hook, and connections to loopback only.

:func:`install` replaces the outside world of ``composer.support.netpolicy``: its
``resolve`` hook answers from :data:`names` (numbers and localhost as the
system reads them, any other name is unknown) and
``counted_as_public`` gets the networks a test declares public. It also makes every
Python connect to an address that is not loopback, and every system DNS lookup of a
name, fail before a packet leaves (recorded in :data:`blocked`), so code that got
the policy wrong still cannot reach 169.254.169.254 or anything else.

``python -c "import netguard; netguard.main()" ARGS`` runs ``composer ARGS`` with the
same guard, the table read from $TEST_DNS and the public networks from $TEST_PUBLIC
(JSON), and the address space capped at $TEST_LIMIT_AS bytes when set; with
$TEST_PEAK_FILE set, its own peak RSS (kB) is written there when it exits.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys

names: dict[str, list[str]] = {}
blocked: list[str] = []


def is_loopback(text: str) -> bool:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def install(public: list[str] = ()):
    """Put the guard in place; returns the function that takes it away."""
    from composer.support import netpolicy

    saved = (socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo)
    saved_policy = (netpolicy.resolve, netpolicy.counted_as_public)
    real_connect, real_connect_ex, real_getaddrinfo = saved

    def resolve(host: str, port: int) -> list[str]:
        if host in names:
            return list(names[host])
        if host == "localhost":  # /etc/hosts, as pytest-httpserver's URLs use it
            return saved_policy[0](host, port)
        try:  # a number in any spelling the C library reads (2852039166): no DNS
            found = real_getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
            return [str(info[4][0]) for info in found]
        except socket.gaierror:
            pass
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: not in the test DNS")

    def refuse(sock, address) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            blocked.append(address[0])
            raise OSError(f"test guard: no connection to {address[0]}")

    def connect(sock, address):
        refuse(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        refuse(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002
        try:  # a number (in any spelling the C library reads) needs no DNS
            return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except (socket.gaierror, UnicodeError):
            pass
        if host in ("localhost", b"localhost", None):
            return real_getaddrinfo(host, port, family, type, proto, flags)
        blocked.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, f"test guard: no DNS lookup of {host}")

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.getaddrinfo = getaddrinfo
    netpolicy.resolve = resolve
    netpolicy.counted_as_public = [ipaddress.ip_network(n) for n in public]

    def undo() -> None:
        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = saved
        netpolicy.resolve, netpolicy.counted_as_public = saved_policy

    return undo


def main() -> None:
    import resource
    import runpy

    names.update(json.loads(os.environ.get("TEST_DNS", "{}")))
    install(json.loads(os.environ.get("TEST_PUBLIC", "[]")))
    if os.environ.get("TEST_LIMIT_AS"):
        cap = int(os.environ["TEST_LIMIT_AS"])
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    if os.environ.get("TEST_PEAK_FILE"):
        import atexit

        atexit.register(_write_peak, os.environ["TEST_PEAK_FILE"])
    sys.argv[0] = "composer"
    runpy.run_module("composer", run_name="__main__", alter_sys=True)


def _write_peak(path: str) -> None:
    """This process's own peak RSS in kB (VmHWM). Not ru_maxrss: a child forked from a
    big process (a pytest worker) inherits the parent's peak before it execs."""
    with open("/proc/self/status", encoding="ascii") as status:
        [line] = [ln for ln in status if ln.startswith("VmHWM:")]
    with open(path, "w", encoding="ascii") as out:
        out.write(line.split()[1])
