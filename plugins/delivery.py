"""Built-in deliverers: SMTP email, a directory copy, a webhook.

Each runs on ``composer send`` only when its table is in composer.toml
(``[delivery.email]``, ``[delivery.directory]``, ``[delivery.webhook]``).
The SMTP password comes only from ``$COMPOSER_SMTP_PASSWORD``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from composer.contract.hookspecs import hookimpl
from composer.contract.protocols import Delivery, DeliveryError

PASSWORD_ENV = "COMPOSER_SMTP_PASSWORD"


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
    sender: str
    to: list[str]
    smtp_port: int = 0  # 0: 465 with ssl, else 587 with starttls, else 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.starttls and self.ssl:
            raise ValueError("set starttls or ssl, not both")
        if not self.to:
            raise ValueError("to: at least one recipient")

    @property
    def port(self) -> int:
        return self.smtp_port or (465 if self.ssl else 587 if self.starttls else 25)


class SmtpDeliverer:
    """The issue as multipart email (text + HTML as rendered), over SMTP."""

    name = "email"
    config_key = "delivery.email"
    config = SmtpConfig

    def _message(self, delivery: Delivery, ctx, config: SmtpConfig):
        from composer.support.mail import build_message

        email = ctx.config_for("email")  # Reply-To, as in email.eml
        return build_message(
            subject=delivery.issue.title or ctx.settings.newsletter.title,
            sender=config.sender,
            to=delivery.to or config.to,
            html=delivery.read("email.html"),
            text=delivery.read("email.txt"),
            issue_id=delivery.issue.id,
            unsubscribe=ctx.settings.newsletter.unsubscribe_url,
            reply_to=email.reply_to if email else "",
        )

    def describe(self, delivery: Delivery, ctx) -> str:
        config = ctx.config_for(self.config_key)
        message = self._message(delivery, ctx, config)
        size = len(message.as_bytes())
        return (
            f"email to {', '.join(delivery.to or config.to)} via {config.smtp_host}:"
            f"{config.port}: subject {message['Subject']!r}, {size / 1024:.1f} KB"
        )

    def deliver(self, delivery: Delivery, ctx) -> str:
        config = ctx.config_for(self.config_key)
        message = self._message(delivery, ctx, config)
        recipients = delivery.to or config.to
        _send_smtp(config, message, recipients)
        return ", ".join(recipients)


def _send_smtp(config: SmtpConfig, message, recipients: list[str]) -> None:
    import smtplib
    import ssl

    where = f"{config.smtp_host}:{config.port}"
    password = os.environ.get(PASSWORD_ENV, "")
    if config.username and not password:
        raise DeliveryError(f"{where}: username is set but ${PASSWORD_ENV} is empty")
    try:
        if config.ssl:
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(
                config.smtp_host, config.port, timeout=config.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(config.smtp_host, config.port, timeout=config.timeout)
        with smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, password)
            smtp.send_message(message, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as exc:
        refused = f"login as {config.username} refused ({_reply(exc)})"
        raise DeliveryError(f"{where}: {refused}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(f"{a} ({_reply(e)})" for a, e in exc.recipients.items())
        raise DeliveryError(f"{where}: recipient refused: {refused}") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"{where}: server said {_reply(exc)}") from None
    except TimeoutError:
        raise DeliveryError(f"{where}: timed out after {config.timeout:g} s") from None
    except ConnectionRefusedError:
        raise DeliveryError(f"{where}: connection refused (is the SMTP server running?)") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}") from None


def _reply(exc) -> str:
    code, text = (exc.smtp_code, exc.smtp_error) if hasattr(exc, "smtp_code") else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


@dataclass
class DirectoryConfig:
    """``[delivery.directory]``: copy outputs into a folder (a Hugo site's content ...)."""

    __pydantic_config__ = {"extra": "forbid"}
    path: str
    files: dict[str, str] = field(default_factory=lambda: {"post.md": "{id}.md"})


class DirectoryDeliverer:
    """Copies chosen outputs into a folder, named by pattern (``{id}`` = issue id)."""

    name = "directory"
    config_key = "delivery.directory"
    config = DirectoryConfig

    def _plan(self, delivery: Delivery, ctx) -> list[tuple[Path, Path]]:
        config = ctx.config_for(self.config_key)
        folder = Path(config.path).expanduser()
        if not folder.is_absolute() and ctx.workspace:
            folder = (ctx.workspace / folder).resolve()
        plan = []
        for name, pattern in config.files.items():
            if name not in delivery.outputs:
                raise DeliveryError(f"[delivery.directory] files: no output named {name}")
            plan.append((delivery.outputs[name], folder / pattern.format(id=delivery.issue.id)))
        return plan

    def describe(self, delivery: Delivery, ctx) -> str:
        return "copy " + ", ".join(f"{s.name} -> {t}" for s, t in self._plan(delivery, ctx))

    def deliver(self, delivery: Delivery, ctx) -> str:
        targets = []
        for source, target in self._plan(delivery, ctx):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            except OSError as exc:
                raise DeliveryError(f"{target}: {exc.strerror or exc}") from None
            targets.append(str(target))
        return ", ".join(targets)


@dataclass
class WebhookConfig:
    """``[delivery.webhook]``: POST the issue's metadata and output paths as JSON."""

    __pydantic_config__ = {"extra": "forbid"}
    url: str
    timeout: float = 15.0


class WebhookDeliverer:
    name = "webhook"
    config_key = "delivery.webhook"
    config = WebhookConfig

    def describe(self, delivery: Delivery, ctx) -> str:
        return f"POST JSON to {ctx.config_for(self.config_key).url}"

    def deliver(self, delivery: Delivery, ctx) -> str:
        from composer.support.http import FetchError, check_url, client, import_httpx

        httpx = import_httpx()
        config = ctx.config_for(self.config_key)
        issue = delivery.issue
        payload = {
            "id": issue.id,
            "title": issue.title,
            "date": issue.date,
            "outputs": {name: str(path) for name, path in delivery.outputs.items()},
        }
        try:
            check_url(config.url)
            with client(timeout=config.timeout) as session:
                response = session.post(config.url, json=payload)
        except FetchError as exc:
            raise DeliveryError(str(exc)) from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{config.url}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise DeliveryError(f"{config.url}: HTTP {response.status_code}")
        return config.url


@hookimpl
def register_deliverers(register):
    register(SmtpDeliverer())
    register(DirectoryDeliverer())
    register(WebhookDeliverer())
