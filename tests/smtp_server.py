"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1) and its composer.toml table."""

from __future__ import annotations

import socket
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

SMTP_PASSWORD = "s3cret-pa55word-xyz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd handler: keeps every message; refuses recipients at nobody.example."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.endswith("@nobody.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"editor@weekly.test" and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def start_server() -> Controller:
    """A running server; ``.inbox.envelopes`` holds what it received."""
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    controller.inbox = inbox
    return controller


def append_config(ws: Path, text: str) -> None:
    """Add ``text`` (TOML tables) at the end of ws/composer.toml."""
    config = ws / "composer.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def configure_smtp(ws: Path, port: int, extra: str = "") -> None:
    """Add a [delivery.email] table for the server on ``port`` to ws/composer.toml."""
    append_config(
        ws,
        f"""
[delivery.email]
smtp_host = "127.0.0.1"
smtp_port = {port}
from = "AI 周报 <editor@weekly.test>"
to = ["review@weekly.test", "second@weekly.test"]
{extra}""",
    )


class StallingInbox(Inbox):
    """Keeps the message, then does not answer DATA for ``stall`` seconds (the client
    times out first): whether it was sent is unknown to the client."""

    def __init__(self, stall: float) -> None:
        super().__init__()
        self.stall = stall

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio

        self.envelopes.append(envelope)
        await asyncio.sleep(self.stall)
        return "250 Message accepted"


def start_stalling_server(stall: float) -> Controller:
    inbox = StallingInbox(stall)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.inbox = inbox
    return controller
