"""``timebank upgrade``: the one way an existing ledger's schema changes.

Opening a ledger never migrates it (a typo in ``--ledger`` must not turn another file into
a ledger, and a co-op should choose when its file changes). ``upgrade`` takes the write lock,
takes a backup of the ledger as it is through ``timebank.storage.backup`` and verifies it (read as
migrated, inside a transaction rolled back so the backup keeps the old schema), then applies
every pending migration in one transaction: all of them, or none.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import attrs

from timebank.errors import LedgerCorrupt, TimebankError
from timebank.ledger import Ledger
from timebank.storage.anchors import anchor_path
from timebank.storage.backup import backup
from timebank.storage.store import SCHEMA_VERSION, LedgerReadOnly


@attrs.frozen
class Upgraded:
    """What ``upgrade`` did: the schema before and after, the migrations, the backup."""

    path: Path
    before: int
    after: int
    applied: tuple[tuple[int, str], ...] = ()
    backup: Path | None = None

    def sentence(self) -> str:
        if not self.applied:
            return f"{self.path} is already at schema {self.after}; nothing to do"
        names = ", ".join(f"{version} ({name})" for version, name in self.applied)
        return (
            f"upgraded {self.path} from schema {self.before} to {self.after} "
            f"(migrations {names}); the ledger as it was is kept, verified, at {self.backup}"
        )


def upgrade(path: str | Path, *, backup_to: str | Path | None = None) -> Upgraded:
    """Back the ledger up, verify the backup, and apply the pending migrations in one step."""
    path = Path(path)
    with Ledger(path) as ledger:
        store = ledger.store
        before = store.schema
        if not store.outdated:
            return Upgraded(path, before, before)
        if store.read_only:
            raise LedgerReadOnly(f"{store.read_only}; nothing was upgraded")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        dest = (
            Path(backup_to) if backup_to else path.with_name(f"{path.name}.before-upgrade-{before}-{stamp}")
        )
        try:
            with store.upgrading() as pending:
                if not pending:  # another process upgraded it while we waited for the lock
                    return Upgraded(path, before, store.schema_version())
                before = store.schema_version()
                # A second connection reads the last commit, which the lock we hold keeps
                # exactly the ledger being upgraded (SQLite's backup cannot copy from a
                # connection inside a write transaction).
                with Ledger(path, ledger.plugins) as reader:
                    anchors_before = anchor_path(dest).exists()
                    try:
                        backup(reader, dest)
                    except BaseException as exc:
                        if not anchors_before:  # a failed backup leaves no half of itself
                            anchor_path(dest).unlink(missing_ok=True)
                        if isinstance(exc, LedgerCorrupt):
                            raise LedgerCorrupt(f"upgrade: nothing was changed: {exc}") from None
                        raise
                applied = tuple((version, name) for version, name, _ in pending)
        except sqlite3.Error as exc:
            kept = f"; the backup {dest} is kept" if dest.exists() else ""
            raise TimebankError(
                f"upgrade: a migration failed ({exc}), so none was applied and the ledger is as it was{kept}"
            ) from None
        return Upgraded(path, before, SCHEMA_VERSION, applied, dest)
