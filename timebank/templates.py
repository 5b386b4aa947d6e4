"""Starter rule sets (``timebank init --template NAME``), one TOML file per co-op model.

Templates ship inside the built-in plugins package (``timebank/plugins/templates``)
so each model's plugin and its sensible defaults live side by side.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from timebank.errors import InputError
from timebank.rules import parse_toml

DEFAULT_TEMPLATE = "time-bank"
"""The starter rules of ``timebank init`` without ``--template`` and of ``Ledger.create``
without rules: one source for a ledger's default rules."""


def template_names() -> list[str]:
    folder = resources.files("timebank.plugins") / "templates"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_template(name: str) -> dict[str, Any]:
    """The rules data of template ``name``; an unknown name lists the ones there are."""
    if name not in template_names():
        raise InputError(f"template: no template {name!r} (templates: {', '.join(template_names())})")
    text = (resources.files("timebank.plugins") / "templates" / f"{name}.toml").read_text("utf-8")
    return parse_toml(text, f"template {name}")
