"""The CLI's commands, a module per area; importing them registers them on ``timebank.cli.cli``."""

from timebank.commands import backups, files, listings, members, public, reading, recording, rules, setup

__all__ = ["backups", "files", "listings", "members", "public", "reading", "recording", "rules", "setup"]
