"""The CLI's commands, a module per area; importing them registers them on ``timebank.cli.main.cli``."""

from timebank.cli.commands import (
    access,
    backups,
    files,
    listings,
    members,
    public,
    reading,
    recording,
    rules,
    setup,
)

__all__ = [
    "access",
    "backups",
    "files",
    "listings",
    "members",
    "public",
    "reading",
    "recording",
    "rules",
    "setup",
]
