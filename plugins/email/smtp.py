"""The email plugin's message and its SMTP deliverer (``[delivery.email]``).

One table describes one message: its sender, recipients and Reply-To shape both
out/email.eml and what ``composer send`` hands to the SMTP server. The password
comes only from ``$COMPOSER_SMTP_PASSWORD``; AUTH over a connection that is not
encrypted is refused unless the server is this machine or ``allow_insecure_auth``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Annotated

from composer import api
from composer.api import Delivery, DeliveryError

PASSWORD_ENV = "COMPOSER_SMTP_PASSWORD"
TABLE = "delivery.email"


def _toml_names(name: str) -> str:
    """``from`` is a Python keyword: the field is ``sender``, the key is ``from``."""
    return "from" if name == "sender" else name


@dataclass
class SmtpConfig:
    """``[delivery.email]`` in composer.toml."""

    __pydantic_config__ = {
        "extra": "forbid",
        "alias_generator": _toml_names,
        "populate_by_name": True,
    }
    smtp_host: str
    sender: Annotated[str, api.EmailAddress()]
    to: list[Annotated[str, api.EmailAddress()]]
    reply_to: Annotated[str, api.EmailAddress()] | None = None
    list_unsubscribe_post: bool = True
    smtp_port: Annotated[int, api.Within(0, 65535)] = 0  # 0: 465 ssl, 587 starttls, else 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    allow_insecure_auth: bool = False
    timeout: Annotated[float, api.Within(0, 600, above=True)] = 30.0

    def __post_init__(self) -> None:
        if self.starttls and self.ssl:
            raise ValueError("set starttls or ssl, not both")
        if not self.to:
            raise ValueError("to: at least one recipient")

    @property
    def port(self) -> int:
        return self.smtp_port or (465 if self.ssl else 587 if self.starttls else 25)


def smtp_config(ctx) -> SmtpConfig | None:
    return ctx.plugin_config.get(TABLE)


def message_for(issue, ctx, html: str, text: str | None, to: list[str]):
    """The issue's email message, addressed as ``[delivery.email]`` says (or to ``to``)."""
    config = smtp_config(ctx)
    return api.build_message(
        subject=issue.title or ctx.settings.newsletter.title,
        sender=config.sender if config else "",
        to=to or (config.to if config else []),
        html=html,
        text=text,
        issue_id=issue.id,
        unsubscribe=ctx.settings.newsletter.unsubscribe_url,
        reply_to=(config.reply_to or "") if config else "",
        one_click=config.list_unsubscribe_post if config else True,
    )


def sender_rules(ctx) -> list[api.Problem]:
    """The sender must be a real address before anything goes out by email."""
    import email.utils

    config = smtp_config(ctx)
    if config is None:
        return []
    address = email.utils.parseaddr(config.sender)[1]
    if "@" not in address or api.is_placeholder(f"mailto:{address}"):
        return [
            api.Problem(
                "config",
                "placeholder",
                f"[delivery.email] from = {config.sender!r} is not a real sender address",
            )
        ]
    return []


class SmtpDeliverer:
    """The issue as multipart email (text + HTML as rendered), over SMTP."""

    name = "email"
    config_key = TABLE
    config = SmtpConfig
    takes_recipients = True

    def check(self, files, ctx) -> list[api.Problem]:
        """What would fail before anything is sent: AUTH in plain text, or a username
        without its password (then no target sends: no partial send)."""
        config = smtp_config(ctx)
        why = insecure_auth(config)
        out = [api.Problem("config", "insecure-auth", f"[delivery.email] {why}")] if why else []
        if config and config.username and not os.environ.get(PASSWORD_ENV):
            message = f"[delivery.email] username is set but ${PASSWORD_ENV} is empty"
            out.append(api.Problem("config", "secret-unset", message))
        return out

    def _message(self, delivery: Delivery, ctx):
        text = delivery.read("email.txt") if "email.txt" in delivery.outputs else None
        if "email.html" not in delivery.outputs:
            raise DeliveryError("email.html was not rendered (is the email plugin's renderer off?)")
        return message_for(delivery.issue, ctx, delivery.read("email.html"), text, delivery.to)

    def describe(self, delivery: Delivery, ctx) -> str:
        config = smtp_config(ctx)
        message = self._message(delivery, ctx)
        size = len(message.as_bytes())
        return (
            f"email to {', '.join(delivery.to or config.to)} via {config.smtp_host}:"
            f"{config.port}: subject {message['Subject']!r}, {size / 1024:.1f} KB"
        )

    def deliver(self, delivery: Delivery, ctx) -> str:
        config = smtp_config(ctx)
        message = self._message(delivery, ctx)
        return send_smtp(config, message, delivery.to or config.to)


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def insecure_auth(config: SmtpConfig) -> str:
    """Why this table's AUTH would be refused (a password in plain text), else ''."""
    encrypted = config.ssl or config.starttls
    if config.username and not encrypted and not config.allow_insecure_auth:
        if not _is_loopback(config.smtp_host):
            return (
                "refusing to send the password unencrypted: set starttls = true "
                "or ssl = true (or allow_insecure_auth = true if you must)"
            )
    return ""


def _session(config: SmtpConfig):
    """An SMTP session that remembers whether the message was handed over (``data``)."""
    import smtplib
    import ssl

    base = smtplib.SMTP_SSL if config.ssl else smtplib.SMTP

    class Session(base):
        handed_over = False  # DATA began: the server may have the message

        def data(self, msg):
            self.handed_over = True
            return super().data(msg)

    if config.ssl:
        context = ssl.create_default_context()
        return Session(config.smtp_host, config.port, timeout=config.timeout, context=context)
    return Session(config.smtp_host, config.port, timeout=config.timeout)


def send_smtp(config: SmtpConfig, message, recipients: list[str]) -> str:
    """Send ``message``; returns the recipients the server took. A failure after the
    message was handed over is ``uncertain``; some recipients refused, ``delivered``."""
    import smtplib
    import ssl

    where = f"{config.smtp_host}:{config.port}"
    password = os.environ.get(PASSWORD_ENV, "")
    if config.username and not password:
        raise DeliveryError(f"{where}: username is set but ${PASSWORD_ENV} is empty")
    if insecure_auth(config):
        raise DeliveryError(f"{where}: {insecure_auth(config)}")
    smtp = None
    try:
        smtp = _session(config)
        try:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, password)
            refused = smtp.send_message(message, to_addrs=recipients)
        finally:
            _quit(smtp)
    except smtplib.SMTPAuthenticationError as exc:
        refused = f"login as {config.username} refused ({_reply(exc)})"
        raise DeliveryError(f"{where}: {refused}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(f"{a} ({_reply(e)})" for a, e in exc.recipients.items())
        raise DeliveryError(f"{where}: recipient refused: {refused}") from None
    except smtplib.SMTPResponseException as exc:  # a clear "no": nothing was delivered
        raise DeliveryError(f"{where}: server said {_reply(exc)}") from None
    except (OSError, smtplib.SMTPException) as exc:
        reason = _transport(exc, config)
        if smtp is not None and smtp.handed_over:
            raise DeliveryError(
                f"{where}: {reason} after the message was handed over: the server may have "
                "sent it; look in a recipient's inbox, then `composer send --resend` if it "
                "did not arrive",
                uncertain=True,
            ) from None
        raise DeliveryError(f"{where}: {reason}") from None
    taken = [r for r in recipients if r not in refused]
    if refused:
        said = ", ".join(f"{a} ({_reply(e)})" for a, e in refused.items())
        raise DeliveryError(
            f"{where}: recipient refused: {said}; sent to {', '.join(taken)}",
            delivered=", ".join(taken),
        )
    return ", ".join(taken)


def _quit(smtp) -> None:
    """End the session; what the server says to QUIT changes nothing that was sent."""
    import smtplib

    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _transport(exc: BaseException, config: SmtpConfig) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out after {config.timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the SMTP server running?)"
    return f"{type(exc).__name__}: {exc}"


def _reply(exc) -> str:
    code, text = (exc.smtp_code, exc.smtp_error) if hasattr(exc, "smtp_code") else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()
