"""Every fetch: bounded decoding and the network policy (issue 12), against real servers.

Packets go to loopback only, even where the code under test were wrong: host names
come from a test DNS table through the policy's resolver hook (tests/netguard.py),
any connect to another address and any system DNS lookup fail before a packet leaves,
and the metadata stand-in on 169.254.169.254 answers only inside a network namespace
of its own, which has nothing but loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bombs
import netguard
import pytest
from conftest import make_sendable
from werkzeug import Response

from composer.support import netpolicy
from composer.support.http import FetchError, client, fetch

TESTS = Path(__file__).resolve().parent
ISSUE = "2026-W48"
METADATA = "link-local/cloud-metadata address refused"
DOWNWARD = "redirect from a public address to a private one refused"


def rss(title: str, link: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Lab</title>'
        f"<item><title>{title}</title><link>{link}</link>"
        "<pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()


@pytest.fixture(autouse=True)
def guard():
    """The test DNS (``netguard.names``) and the loopback-only guard, in this process."""
    netguard.names.clear()
    netguard.blocked.clear()
    undo = netguard.install()
    yield netguard
    undo()


def declare_public(*networks: str) -> None:
    netpolicy.counted_as_public = [netpolicy.ipaddress.ip_network(n) for n in networks]


class StandIn:
    """A server on a loopback address that answers every GET and counts them."""

    def __init__(self, host: str = "127.0.0.2", body: bytes = b"secret") -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def standin():
    server = StandIn()
    yield server
    server.close()


def get(url: str, max_bytes: int = 1_000_000, timeout: float = 10, stop=None):
    with client(timeout=timeout) as session:
        return fetch(session, url, timeout, max_bytes, stop=stop)


# -- the decision, on addresses -------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "169.254.0.1",
        "fe80::1",
        "fe80::1%lo",
        "100.100.100.200",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "::ffff:100.100.100.200",
        "::169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 (RFC 8215)
        "64:ff9b:1:a9fe:a9:fe00::",  # the same prefix, IPv4 where RFC 6052 puts it after /48
        "::ffff:0:a9fe:a9fe",  # SIIT
        "2002:a9fe:a9fe::1",
        "2001:0:4136:e378::5601:5601",  # Teredo, client 169.254.169.254 (obfuscated)
    ],
)
def test_link_local_and_metadata_addresses_are_refused_in_every_form(address):
    with pytest.raises(netpolicy.Refused, match=METADATA):
        netpolicy.vet("feed.test", ["127.0.0.1", address])
    assert not netpolicy.is_public(address)


def test_a_deprecated_site_local_address_is_not_public():
    assert not netpolicy.is_public("fec0::1") and netpolicy.is_public("2606:4700::1111")


@pytest.mark.parametrize(
    "name", ["metadata.google.internal", "METADATA.google.internal.", "metadata", "instance-data"]
)
def test_metadata_host_names_are_refused_whatever_they_resolve_to(name):
    with pytest.raises(netpolicy.Refused, match=METADATA):
        netpolicy.vet(name, ["127.0.0.1"])
    asked = []
    netpolicy.resolve = lambda host, port: asked.append(host) or ["127.0.0.1"]
    with pytest.raises(netpolicy.Refused, match=METADATA):
        netpolicy.Lookups().vetted(name, 80)
    assert asked == []  # not even looked up


@pytest.mark.parametrize("spelling", ["2852039166", "0xa9fea9fe", "169.254.43518"])
def test_numeric_spellings_are_judged_by_the_address_they_resolve_to(spelling):
    netpolicy.resolve = netpolicy.getaddrinfo  # the system's, for numbers only (see guard)
    with pytest.raises(netpolicy.Refused, match="169.254.169.254"):
        netpolicy.Lookups().vetted(spelling, 80)
    assert netguard.blocked == []


def test_a_redirect_may_go_anywhere_but_from_public_to_private():
    public, private = ["93.184.215.14", "2606:2800:21f:cb07::1"], ["10.1.2.3", "192.168.0.9"]
    loopback = ["127.0.0.1", "::1", "::ffff:127.0.0.1", "100.64.0.1", "0.0.0.0"]
    for addresses in (public, private, loopback):
        netpolicy.vet_redirect(False, "next.test", addresses)  # from private: anywhere
    netpolicy.vet_redirect(True, "next.test", public)
    for address in private + loopback:
        with pytest.raises(netpolicy.Refused, match=DOWNWARD):
            netpolicy.vet_redirect(True, "next.test", [public[0], address])
    declare_public("127.0.0.1/32")
    assert netpolicy.is_public("127.0.0.1") and not netpolicy.is_public("127.0.0.2")


# -- the policy in real fetches (in this process, behind the guard) ----------------


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "100.100.100.200"]
)
def test_a_redirect_to_a_metadata_address_is_refused_before_connecting(httpserver, address):
    netguard.names["imds.test"] = [address]
    httpserver.expect_request("/feed").respond_with_response(
        Response(status=302, headers={"Location": "http://imds.test/latest/meta-data/"})
    )
    with pytest.raises(netpolicy.Refused, match=f"{METADATA}: imds.test -> {address}$"):
        get(httpserver.url_for("/feed"))
    assert netguard.blocked == []  # no connect was even attempted


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://2852039166/"]
)
def test_a_metadata_url_listed_directly_is_refused(url):
    with pytest.raises(netpolicy.Refused, match=METADATA):
        get(url)
    assert netguard.blocked == []


def test_a_redirect_from_a_public_address_to_loopback_is_refused(httpserver, standin):
    netguard.names.update({"feed.example.test": ["127.0.0.1"], "intranet.test": ["127.0.0.2"]})
    declare_public("127.0.0.1/32")  # the feed server stands for a public host
    target = f"http://intranet.test:{standin.port}/admin"
    httpserver.expect_request("/feed").respond_with_response(
        Response(status=302, headers={"Location": target})
    )
    with pytest.raises(netpolicy.Refused, match=f"{DOWNWARD}: intranet.test -> 127.0.0.2$"):
        get(f"http://feed.example.test:{httpserver.port}/feed")
    assert standin.hits == []
    assert get(target).content == b"secret"  # listed directly, the editor may fetch it


def test_a_redirect_between_private_addresses_is_followed(httpserver, standin):
    netguard.names.update({"wiki.intranet.test": ["127.0.0.1"], "intranet.test": ["127.0.0.2"]})
    httpserver.expect_request("/feed").respond_with_response(
        Response(status=302, headers={"Location": f"http://intranet.test:{standin.port}/rss"})
    )
    got = get(f"http://wiki.intranet.test:{httpserver.port}/feed")
    assert got.content == b"secret" and standin.hits == ["/rss"]


def test_a_host_is_resolved_once_and_connected_at_the_checked_address(httpserver):
    answers = [["127.0.0.1"], ["169.254.169.254"]]  # DNS rebinding: a second answer differs
    calls = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), 2) - 1]

    netpolicy.resolve = rebinding
    httpserver.expect_request("/a").respond_with_response(
        Response(status=302, headers={"Location": f"http://rebind.test:{httpserver.port}/b"})
    )
    httpserver.expect_request("/b").respond_with_data("B")
    with client() as session:
        for _ in range(2):
            got = fetch(session, f"http://rebind.test:{httpserver.port}/a", 10, 1000)
            assert got.content == b"B"
    assert calls == ["rebind.test"] and netguard.blocked == []


def test_any_client_follows_the_policy_and_the_webhook_says_why(
    run, tmp_path, httpserver, workspace
):
    netguard.names["hook.test"] = ["169.254.169.254"]
    with client() as session, pytest.raises(netpolicy.Refused, match=METADATA):
        session.post("http://hook.test/hook", json={})
    make_sendable(workspace)
    result = run("draft", "-w", workspace, "--issue", "2023-W47", "--offline")
    assert result.returncode == 0, result.stderr
    with open(workspace / "composer.toml", "a", encoding="utf-8") as toml:
        toml.write('\n[delivery.webhook]\nurl = "http://hook.test/hook"\n')
    result = composer(["send", "2023-W47", "-w", workspace], tmp_path, dns=netguard.names)
    assert result.returncode != 0
    assert f"{METADATA}: hook.test -> 169.254.169.254" in result.stderr
    assert "test guard" not in result.stderr


# -- bounded decoding ---------------------------------------------------------------

FEED = rss("编码", "https://e.example/1") * 20


def brotli_or_skip():
    brotli = pytest.importorskip("brotli")
    if not hasattr(brotli.Decompressor(), "can_accept_more_data"):
        pytest.skip("brotli older than 1.2 cannot bound its output: br is not accepted")
    return brotli


ENCODINGS = {
    "gzip": lambda b: bombs.gzip(b),
    "x-gzip": lambda b: bombs.gzip(b),
    "deflate": lambda b: zlib.compress(b),
    "deflate (raw)": lambda b: zlib.compress(b, wbits=-15),
    "identity": lambda b: b,
    "gzip, gzip": lambda b: bombs.gzip(bombs.gzip(b)),
    "deflate, identity, gzip": lambda b: bombs.gzip(zlib.compress(b)),
    "gzip, deflate, gzip, deflate": lambda b: zlib.compress(
        bombs.gzip(zlib.compress(bombs.gzip(b)))
    ),
    "br": lambda b: brotli_or_skip().compress(b),
    "gzip, br": lambda b: brotli_or_skip().compress(bombs.gzip(b)),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_every_layering_of_encodings_is_decoded(httpserver, encoding):
    body = ENCODINGS[encoding](FEED)
    header = encoding.replace(" (raw)", "")
    httpserver.expect_request("/feed").respond_with_data(body, headers={"Content-Encoding": header})
    assert get(httpserver.url_for("/feed")).content == FEED
    assert httpserver.log[0][0].headers["Accept-Encoding"].startswith("gzip, deflate")


@pytest.mark.parametrize(
    "header, reason",
    [
        ("compress", "unsupported Content-Encoding 'compress'"),
        ("gzip, zstd", "unsupported Content-Encoding 'zstd'"),
        ("gzip, gzip, gzip, gzip, gzip", r"5 Content-Encoding layers \(at most 4\)"),
    ],
)
def test_unknown_encodings_and_deep_stacks_are_refused(httpserver, header, reason):
    httpserver.expect_request("/feed").respond_with_data(
        b"\x1f\x8b whatever", headers={"Content-Encoding": header}
    )
    with pytest.raises(FetchError, match=reason):
        get(httpserver.url_for("/feed"))


@pytest.fixture(scope="module")
def bomb_server():
    routes = bombs.bombs(256 * bombs.MIB, bombs.GIB)
    try:
        import brotli

        routes["/br"] = ("br", brotli.compress(bytes(bombs.GIB), quality=1))
    except ImportError:
        pass
    good = {"/good": ("application/rss+xml", rss("好文", "https://g.example/1"))}
    server = bombs.serve(routes, extra=good)
    yield f"http://127.0.0.1:{server.server_address[1]}", routes
    server.shutdown()


def test_a_bomb_is_cut_off_at_the_cap_in_decoded_bytes(bomb_server):
    base, routes = bomb_server
    for path in routes:
        with pytest.raises(FetchError, match="body larger than 1,000,000 bytes once decoded"):
            get(base + path, max_bytes=1_000_000)
    assert len(routes["/gzip-gzip"][1]) < 20_000  # 1 GiB of zeros in two gzip layers


class Endless(BaseHTTPRequestHandler):
    """A gzip body that never ends: empty deflate blocks (inflating to nothing) or,
    for /slow, a little compressed zero data every 20 ms. Stops when the client
    closes (``closed`` is set), or after 30 s whatever happens."""

    closed = threading.Event()
    started = threading.Event()

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
        self.wfile.write(squeeze.compress(b""))
        empty = b"\x00\x00\x00\xff\xff" * 10_000  # stored blocks of no bytes
        give_up = time.monotonic() + 30
        try:
            while time.monotonic() < give_up:
                if self.path == "/slow":
                    chunk = squeeze.compress(bytes(100_000)) + squeeze.flush(zlib.Z_SYNC_FLUSH)
                    threading.Event().wait(0.02)
                else:
                    chunk = empty
                self.wfile.write(chunk)
                self.wfile.flush()
                type(self).started.set()
        except OSError:
            type(self).closed.set()

    def log_message(self, *args):
        pass


@pytest.fixture
def endless():
    Endless.closed.clear()
    Endless.started.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_body_that_inflates_to_nothing_still_times_out(endless):
    with pytest.raises(FetchError, match="timed out after 0.5 s"):
        get(endless + "/empty", timeout=0.5)
    assert Endless.closed.wait(10)


def test_a_stopped_fetch_stops_inflating_and_closes_its_connection(endless):
    stop, failure = threading.Event(), []

    def worker():
        try:
            get(endless + "/slow", max_bytes=10**12, timeout=60, stop=stop)
        except FetchError as exc:
            failure.append(str(exc))

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    assert Endless.started.wait(10)
    stop.set()
    thread.join(10)
    assert failure == ["given up: the run stopped waiting for it"]
    assert Endless.closed.wait(10)


# -- whole drafts, in a subprocess ------------------------------------------------------


def composer(args, cwd: Path, dns=None, public=(), limit_as: int = 0):
    """``composer ARGS`` behind netguard (test DNS, loopback only).

    Returns a CompletedProcess with ``.peak_mb``, the child's own peak RSS.
    """
    peak_file = cwd / "peak.txt"
    env = dict(
        os.environ,
        COMPOSER_PLUGINS="builtins",
        NO_COLOR="1",
        TEST_DNS=json.dumps(dict(dns or {})),
        TEST_PUBLIC=json.dumps(list(public)),
        TEST_LIMIT_AS=str(limit_as or ""),
        TEST_PEAK_FILE=str(peak_file),
        PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    )
    command = [sys.executable, "-c", "import netguard; netguard.main()", *map(str, args)]
    with open(cwd / "out.txt", "w+") as out, open(cwd / "err.txt", "w+") as err:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        try:
            child.wait(120)
        finally:
            child.kill()
        out.seek(0), err.seek(0)
        result = subprocess.CompletedProcess(command, child.returncode, out.read(), err.read())
    result.peak_mb = int(peak_file.read_text()) / 1024 if peak_file.exists() else None
    return result


def feeds_workspace(root: Path, urls: list[str], extra: str = "") -> Path:
    listed = ", ".join(f'"{u}"' for u in urls)
    (root / "composer.toml").write_text(
        f'[newsletter]\ntimezone = "Asia/Shanghai"\n\n[feeds]\nurls = [{listed}]\n{extra}',
        encoding="utf-8",
    )
    return root


def issue_md(root: Path) -> str:
    path = root / ISSUE / "issue.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_a_draft_facing_compression_bombs_stays_under_250_mb(tmp_path, bomb_server):
    base, routes = bomb_server
    bad = [base + path for path in routes]
    root = feeds_workspace(tmp_path, [*bad, base + "/good"], "timeout = 30\n")
    # the address-space cap only keeps a broken version from exhausting the machine
    result = composer(
        ["draft", "-w", root, "--issue", ISSUE, "--force"], tmp_path, limit_as=4 << 30
    )
    assert result.returncode == 0, result.stderr
    # it peaks near 75 MB (each fetch holds at most max_bytes before it is cut off);
    # unbounded, it takes gigabytes
    assert result.peak_mb < 250, f"peak RSS {result.peak_mb:.0f} MB"
    for url in bad:
        [line] = [ln for ln in result.stderr.splitlines() if url + ":" in ln]
        assert "larger than 5,000,000 bytes" in line
    assert "好文" in issue_md(root)


def test_a_feed_redirected_from_public_to_loopback_is_one_warning_and_not_published(
    tmp_path, httpserver
):
    inside = StandIn(body=rss("内网条目", "https://intranet.example/1"))
    try:
        httpserver.expect_request("/feed").respond_with_response(
            Response(status=301, headers={"Location": f"http://intranet.test:{inside.port}/rss"})
        )
        httpserver.expect_request("/good").respond_with_data(rss("好文", "https://g.example/1"))
        feed = f"http://feed.example.test:{httpserver.port}/feed"
        root = feeds_workspace(tmp_path, [feed, f"http://feed.example.test:{httpserver.port}/good"])
        dns = {"feed.example.test": ["127.0.0.1"], "intranet.test": ["127.0.0.2"]}
        result = composer(
            ["draft", "-w", root, "--issue", ISSUE], tmp_path, dns=dns, public=["127.0.0.1/32"]
        )
    finally:
        inside.close()
    assert result.returncode == 0, result.stderr
    [line] = [ln for ln in result.stderr.splitlines() if feed in ln]
    assert f"{DOWNWARD}: intranet.test -> 127.0.0.2" in line
    assert inside.hits == [] and "内网条目" not in issue_md(root) and "好文" in issue_md(root)


# -- end to end in a network namespace with only loopback --------------------------------

NAMESPACE_RUN = r"""
import json, subprocess, sys, threading, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
root, rss = sys.argv[1], sys.argv[2].encode()
hits = []

class Metadata(BaseHTTPRequestHandler):
    def do_GET(self):
        hits.append(self.path)
        self.send_response(200); self.end_headers(); self.wfile.write(b"ami-id\n")
    def log_message(self, *args): pass

class Feeds(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/good":
            self.send_response(200); self.end_headers(); self.wfile.write(rss); return
        self.send_response(302)
        self.send_header("Location", json.loads(open(root + "/targets.json").read())[self.path])
        self.end_headers()
    def log_message(self, *args): pass

for host, port, handler in (("169.254.169.254", 80, Metadata), ("127.0.0.1", 8080, Feeds)):
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
draft = subprocess.run(
    [sys.executable, "-m", "composer", "draft", "-w", root, "--issue", "2026-W48"],
    capture_output=True, text=True, timeout=120,
)
before = list(hits)
reachable = urllib.request.urlopen("http://169.254.169.254/latest/meta-data/", timeout=5).read()
print(json.dumps({"stderr": draft.stderr, "code": draft.returncode, "hits": before,
                  "reachable": reachable.decode()}))
"""


def test_in_a_namespace_of_its_own_no_fetch_reaches_the_metadata_stand_in(tmp_path):
    if not (shutil.which("unshare") and shutil.which("ip")):
        pytest.skip("needs unshare and ip (util-linux, iproute2) for a private network namespace")
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here: {probe.stderr.strip()}")
    targets = {
        "/literal": "http://169.254.169.254/latest/meta-data/",
        "/mapped": "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "/decimal": "http://2852039166/latest/meta-data/",
    }
    (tmp_path / "targets.json").write_text(json.dumps(targets), encoding="utf-8")
    redirects = [f"http://127.0.0.1:8080{path}" for path in targets]
    direct = "http://169.254.169.254/latest/meta-data/iam/"
    feeds_workspace(tmp_path, [*redirects, direct, "http://127.0.0.1:8080/good"])
    setup = 'ip link set lo up && ip addr add 169.254.169.254/32 dev lo && exec "$@"'
    good = rss("好文", "https://g.example/1").decode()
    command = [sys.executable, "-c", NAMESPACE_RUN, str(tmp_path), good]
    env = dict(os.environ, COMPOSER_PLUGINS="builtins", NO_COLOR="1")
    done = subprocess.run(
        ["unshare", "-rn", "sh", "-c", setup, "sh", *command],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["code"] == 0, report["stderr"]
    assert report["hits"] == [] and report["reachable"] == "ami-id\n"  # it was there to reach
    for url in [*redirects, direct]:
        [line] = [ln for ln in report["stderr"].splitlines() if url + ":" in ln]
        assert METADATA in line
    assert "好文" in issue_md(tmp_path)
