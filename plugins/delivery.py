"""Built-in deliverers: a directory copy and a webhook (SMTP is the email plugin's).

Each runs on ``composer send`` only when its table is in composer.toml
(``[delivery.directory]``, ``[delivery.webhook]``).
"""

from __future__ import annotations

import json
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

    def __post_init__(self) -> None:
        if not self.path.strip():
            raise ValueError("path: the folder to copy into (empty)")
        for name, pattern in self.files.items():
            problem = _name_problem(pattern)
            if problem:
                raise ValueError(f"files: {name} = {pattern!r}: {problem}")


def _name_problem(pattern: str) -> str:
    """Why ``pattern`` is not a file name inside the folder, with ``{id}`` the only field."""
    import string

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError as exc:
        return f"not a name pattern ({exc})"
    if any(f != "id" for f in fields):
        return "{id} is the only field a name may hold"
    name = pattern.replace("{id}", "2026-W48")
    if not name.strip() or name.startswith(("/", "~")) or ".." in Path(name).parts:
        return "a file name inside path (no /, ~ or .. at its start)"
    return ""


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
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            with api.http_client(timeout=config.timeout) as session:
                # the whole answer within the timeout; a redirect is not followed (it
                # would turn the POST into a GET elsewhere)
                response = api.http_request(
                    session,
                    "POST",
                    config.url,
                    config.timeout,
                    ANSWER_BYTES,
                    follow_redirects=False,
                    headers={"Content-Type": "application/json"},
                    content=body,
                )
        except api.FetchError as exc:  # the connection, TLS, a timeout, the policy
            reason = str(exc).replace(config.url, shown)
            raise api.DeliveryError(f"{shown}: {api.mask_urls(reason)}") from None
        if response.status >= 300:
            moved = " (a redirect: set url to where it points)" if response.status < 400 else ""
            raise api.DeliveryError(f"{shown}: HTTP {response.status}{moved}")
        return shown


ANSWER_BYTES = 1_000_000  # the webhook's answer is read (bounded) and not used


@hookimpl
def register_deliverers(register):
    register(DirectoryDeliverer())
    register(WebhookDeliverer())
