"""Anchors: the chain's head written outside the ledger file after every commit.

The hash chain shows that entries were changed behind the triggers' back, but someone with
the file could change an entry and recompute every hash after it. So after each committed
transaction timebank appends ``ID HASH`` (the last entry and its hash) to
``LEDGER.anchors``, a plain append-only text file beside the ledger, created private like
the ledger. ``verify`` checks the chain against every anchor: a chain rebuilt from some
entry, or entries cut off the end, no longer match what was recorded when they were
written. Published figures and backups record the head hash too, as further anchors.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

from timebank.store import create_private_file


def anchor_path(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".anchors")


def append_anchor(ledger_path: Path, entry_id: int, digest: str) -> None:
    """Record that entry ``entry_id`` had hash ``digest`` when it was committed."""
    path = anchor_path(ledger_path)
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            create_private_file(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, f"{entry_id} {digest}\n".encode())
    finally:
        os.close(fd)


def read_anchors(ledger_path: Path) -> dict[int, str]:
    """Every anchor recorded for the ledger (a torn last line, from a crash, is ignored)."""
    path = anchor_path(ledger_path)
    if not path.exists():
        return {}
    anchors: dict[int, str] = {}
    for line in path.read_text("ascii", errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and len(parts[1]) == 64:
            anchors[int(parts[0])] = parts[1]
    return anchors


def set_aside_orphans(ledger_path: Path) -> None:
    """A new ledger at a path whose old ledger was deleted must not inherit its anchors."""
    path = anchor_path(ledger_path)
    if path.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path.replace(path.with_name(f"{path.name}.orphaned-{stamp}"))


def rewrite_anchors(ledger_path: Path, entry_id: int, digest: str) -> None:
    """Start the anchors afresh at a restored ledger's head (the old file is kept aside)."""
    path = anchor_path(ledger_path)
    if path.exists():
        path.replace(path.with_name(path.name + ".before-restore"))
    if entry_id:
        append_anchor(ledger_path, entry_id, digest)
