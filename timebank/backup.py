"""Backups with SQLite's online backup, which copies a consistent snapshot while others write.

A backup is verified before it counts: ``backup`` deletes a copy that does not verify, and
``restore`` refuses one. Backups are created private like the ledger (or for the co-op's
group), with the ledger's anchors up to the copied head beside them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from timebank.anchors import append_anchor, read_anchors, rewrite_anchors
from timebank.errors import InputError, LedgerCorrupt
from timebank.ledger import Ledger
from timebank.store import create_private_file
from timebank.verify import Report

PAGES_PER_STEP = 4096


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    target = sqlite3.connect(target_path)
    try:
        source.backup(target, pages=PAGES_PER_STEP, sleep=0.001)
    finally:
        target.close()


def backup(ledger: Ledger, dest: str | Path, *, group: str | None = None) -> Report:
    """Copy the ledger to ``dest`` (which must not exist) and verify the copy."""
    dest = Path(dest)
    if dest.exists():
        raise InputError(f"dest: {dest} already exists; choose a new name for each backup")
    if dest.resolve() == ledger.path.resolve():
        raise InputError("dest: a backup cannot be the ledger itself")
    create_private_file(dest, group=group)
    try:
        _copy(ledger.conn, dest)
        with Ledger(dest, ledger.plugins) as copy:
            head = copy.conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
            for entry_id, digest in sorted(read_anchors(ledger.path).items()):
                if head and entry_id <= head[0]:
                    append_anchor(dest, entry_id, digest)
            report = copy.verify()
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    if not report.ok:
        dest.unlink(missing_ok=True)
        raise LedgerCorrupt(f"backup: the copy did not verify and was deleted: {report.problem}")
    return report


def restore(source: str | Path, ledger_path: str | Path) -> Report:
    """Replace the ledger at ``ledger_path`` with the backup ``source``, if the backup verifies.

    The ledger being replaced is first copied aside to ``LEDGER.before-restore-TIME``.
    """
    source, ledger_path = Path(source), Path(ledger_path)
    if not source.exists():
        raise InputError(f"source: {source} does not exist")
    with Ledger(source) as copy:
        report = copy.verify()
        if not report.ok:
            raise LedgerCorrupt(
                f"restore: {source} does not verify, so it was not restored: {report.problem}"
            )
        head = copy.conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone() or (
            0,
            "",
        )
        if ledger_path.exists():
            with Ledger(ledger_path) as current:
                stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
                aside = ledger_path.with_name(f"{ledger_path.name}.before-restore-{stamp}")
                create_private_file(aside)
                _copy(current.conn, aside)
        else:
            create_private_file(ledger_path)
        _copy(copy.conn, ledger_path)
    rewrite_anchors(ledger_path, *head)
    with Ledger(ledger_path) as restored:
        return restored.verify()
