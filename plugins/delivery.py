"""Built-in deliverers: a directory copy and a webhook (SMTP is the email plugin's).

Each runs on ``composer send`` only when its table is in composer.toml
(``[delivery.directory]``, ``[delivery.webhook]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from composer import api
from composer.api import hookimpl


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

    def _plan(self, delivery: api.Delivery, ctx) -> list[tuple[Path, Path]]:
        config = ctx.config_for(self.config_key)
        folder = Path(config.path).expanduser()
        if not folder.is_absolute() and ctx.workspace:
            folder = (ctx.workspace / folder).resolve()
        plan = []
        for name, pattern in config.files.items():
            if name not in delivery.outputs:
                raise api.DeliveryError(f"[delivery.directory] files: no output named {name}")
            plan.append((delivery.outputs[name], folder / pattern.format(id=delivery.issue.id)))
        return plan

    def check(self, files, ctx) -> list:
        """Every output ``files`` names must have been rendered (a disabled renderer's
        is not: blocking, so ``check`` says it before ``send`` fails)."""
        config = ctx.config_for(self.config_key)
        return [
            api.Problem(
                "config",
                "delivery-directory",
                f"[delivery.directory] files names {name}, which no loaded renderer writes",
            )
            for name in config.files
            if name not in files
        ]

    def describe(self, delivery: api.Delivery, ctx) -> str:
        return "copy " + ", ".join(f"{s.name} -> {t}" for s, t in self._plan(delivery, ctx))

    def deliver(self, delivery: api.Delivery, ctx) -> str:
        import shutil

        targets = []
        for source, target in self._plan(delivery, ctx):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            except OSError as exc:
                raise api.DeliveryError(f"{target}: {exc.strerror or exc}") from None
            targets.append(str(target))
        return ", ".join(targets)


@dataclass
class WebhookConfig:
    """``[delivery.webhook]``: POST the issue's metadata and output paths as JSON."""

    __pydantic_config__ = {"extra": "forbid"}
    url: Annotated[str, api.HttpURL()]
    timeout: Annotated[float, api.Within(0, 600, above=True)] = 15.0


class WebhookDeliverer:
    name = "webhook"
    config_key = "delivery.webhook"
    config = WebhookConfig

    def describe(self, delivery: api.Delivery, ctx) -> str:
        return f"POST JSON to {api.mask_url(ctx.config_for(self.config_key).url)}"

    def deliver(self, delivery: api.Delivery, ctx) -> str:
        config = ctx.config_for(self.config_key)
        shown = api.mask_url(config.url)  # credentials in the URL are never shown or stored
        issue = delivery.issue
        payload = {
            "id": issue.id,
            "title": issue.title,
            "date": issue.date,
            "outputs": {name: str(path) for name, path in delivery.outputs.items()},
        }
        try:
            api.check_url(config.url)
            with api.http_client(timeout=config.timeout) as session:
                response = session.post(config.url, json=payload)
        except api.FetchError as exc:
            raise api.DeliveryError(f"{shown}: {api.mask_url(str(exc))}") from None
        except api.HTTPError as exc:  # the connection, TLS, a timeout
            reason = str(exc).replace(config.url, shown)
            raise api.DeliveryError(f"{shown}: {type(exc).__name__}: {reason}") from None
        if response.status_code >= 400:
            raise api.DeliveryError(f"{shown}: HTTP {response.status_code}")
        return shown


@hookimpl
def register_deliverers(register):
    register(DirectoryDeliverer())
    register(WebhookDeliverer())
