"""``composer init``: a new workspace with a commented composer.toml."""

from __future__ import annotations

from pathlib import Path

from composer.errors import Refusal
from composer.support.starter import CONFIG_TEMPLATE, EXAMPLE_NOTE
from composer.support.workspace import CONFIG_NAME, atomic_write, current_issue_id


def init_workspace(folder: Path, timezone: str = "Asia/Shanghai") -> list[Path]:
    """Create the workspace layout; refuses to touch an existing composer.toml."""
    config = folder / CONFIG_NAME
    if config.exists():
        raise Refusal(f"{config} already exists", "edit it, or choose another folder")
    issue = current_issue_id(timezone)
    created = [config, folder / issue / "notes" / "example.md"]
    atomic_write(config, CONFIG_TEMPLATE)
    atomic_write(created[1], EXAMPLE_NOTE)
    for sub in ("templates", "plugins"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        created.append(folder / sub)
    return created
