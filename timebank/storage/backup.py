"""Backups with SQLite's online backup, which copies a consistent snapshot while others write.

A backup is verified before it counts: ``backup`` writes the copy under a temporary name,
verifies it, and only then gives it its name (a copy that does not verify, or a backup
killed or out of disk space half-way, never appears under the name asked for). Backups are
created private like the ledger (or for the co-op's group), with the ledger's anchors up to
the copied head beside them.

``restore`` is the one command that replaces a ledger with another file, so it is careful
about what it puts in place (see ``restore``).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import attrs

from timebank.errors import InputError, LedgerCorrupt
from timebank.ledger import Ledger
from timebank.storage.anchors import (
    anchor_path,
    anchors_text,
    ledger_id,
    read_anchor_file,
    real_path,
)
from timebank.storage.outputs import (
    disk_full,
    install_ledger,
    is_disk_full,
    ledger_replacement,
    output_file,
    share_like,
)
from timebank.storage.reads import chain_head
from timebank.storage.store import create_private_file, file_uri, now_utc, tables_in
from timebank.storage.verify import Report

PAGES_PER_STEP = 4096


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    target = sqlite3.connect(target_path)
    try:
        source.backup(target, pages=PAGES_PER_STEP, sleep=0.001)
    finally:
        target.close()


def _write_anchors(path: Path, text: str, *, group: str | None = None) -> None:
    create_private_file(path, group=group)
    with open(path, "w", encoding="ascii") as stream:
        stream.write(text)


def backup(ledger: Ledger, dest: str | Path, *, group: str | None = None) -> Report:
    """Copy the ledger to ``dest`` (which must not exist) and verify the copy."""
    with output_file(
        dest,
        ledger=ledger.path,
        kind="backup",
        replace=False,
        group=group,
        companions=(".anchors",),
        field="dest",
    ) as temp:
        _copy(ledger.conn, temp)
        with Ledger(temp, ledger.plugins) as copy:
            last_id, last_hash = chain_head(copy.conn)
            own = ledger_id(copy.conn)
            beside = read_anchor_file(anchor_path(ledger.path))
            hashes = {}
            if beside.ledger_id in (None, own):
                hashes = {i: h for i, h in beside.hashes.items() if i <= last_id}
            if last_id:
                hashes[last_id] = last_hash
            _write_anchors(
                Path(f"{temp}.anchors"),
                anchors_text(own, hashes, [f"backup of {real_path(ledger.path)} at {now_utc()}"]),
                group=group,
            )
            report = copy.verify()
        if not report.ok:
            raise LedgerCorrupt(f"backup: the copy did not verify and was deleted: {report.problem}")
    return report


@attrs.frozen
class Restored:
    """What ``restore`` did: the check of the result, and where the replaced ledger went."""

    report: Report
    path: Path
    aside: Path | None
    entries: int
    entries_before: int | None
    overridden: bool


def _peek(path: Path) -> tuple[int | None, str | None]:
    """Entries and id of the ledger being replaced, if it can be read at all (it may be damaged)."""
    if not path.exists():
        return 0, None
    # Without a WAL there is nothing beyond the file itself: read it as immutable, which
    # leaves no -wal or -shm behind (a read-only connection cannot remove them).
    mode = "mode=ro" if Path(f"{path}-wal").exists() else "mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(file_uri(path, mode), uri=True)
        try:
            count = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
            return count, ledger_id(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None, None


def _copy_source(source: Path, temp: Path) -> None:
    """Copy the backup's bytes, with a WAL or an unfinished journal, so SQLite settles the copy.

    The source itself is only read: a hot journal (a backup killed half-way) is rolled back
    in the copy, never in the source, and the source is never converted.
    """
    shutil.copyfile(source, temp)
    for suffix in ("-wal", "-journal"):
        side = Path(f"{source}{suffix}")
        if side.exists():
            create_private_file(Path(f"{temp}{suffix}"))
            shutil.copyfile(side, f"{temp}{suffix}")


def _tables(path: Path) -> set[str]:
    try:
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA schema_version").fetchone()  # settles a WAL or hot journal
            return tables_in(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return set()


def restore(
    source: str | Path,
    ledger_path: str | Path,
    *,
    allow_fewer: bool = False,
    override: str | None = None,
    actor: str = "",
) -> Restored:
    """Replace the ledger at ``ledger_path`` with the backup ``source``, if it is safe to.

    Refused, with nothing changed, when the source:

    * does not verify, or is not a timebank ledger at all (an empty file);
    * has fewer entries than the ledger it replaces (or than its anchors vouch for), unless
      ``allow_fewer`` (going back to last night's backup after damage loses the day's work,
      and the treasurer must say so);
    * does not extend the history the live anchors vouch for: another ledger, or an entry
      changed and every hash after it recomputed. Only an ``override`` (a co-ordinator's
      reason) lets it through, and the override is recorded in the new anchors file.

    The live ledger is never opened as a ledger (restoring over a damaged one works); it is
    moved aside, with its anchors, to ``LEDGER.before-restore-TIME``, never deleted. The
    source is copied first and only the copy is opened.
    """
    source = Path(source)
    if not source.is_file():
        raise InputError(f"source: {source} does not exist")
    with contextlib.suppress(OSError):
        if os.path.samefile(source, real_path(ledger_path)):
            raise InputError(f"source: {source} is the ledger itself")
    with ledger_replacement(Path(ledger_path), what="restore") as live:
        fd, name = tempfile.mkstemp(prefix=f".{live.name}.restore-", suffix=".tmp", dir=live.parent)
        os.close(fd)
        temp = Path(name)
        try:
            result = _restore_into(
                source, live, temp, allow_fewer=allow_fewer, override=override, actor=actor
            )
        except BaseException as exc:
            for suffix in ("", "-wal", "-shm", "-journal", ".anchors"):
                with contextlib.suppress(OSError):
                    Path(f"{temp}{suffix}").unlink()
            if is_disk_full(exc):
                raise disk_full("restore", live, nothing="nothing was restored") from None
            raise
    with Ledger(live) as restored:
        return attrs.evolve(result, report=restored.verify())


def _restore_into(
    source: Path, live: Path, temp: Path, *, allow_fewer: bool, override: str | None, actor: str
) -> Restored:
    _copy_source(source, temp)
    tables = _tables(temp)
    if "entries" not in tables or "migrations" not in tables:
        raise InputError(
            f"source: {source} is not a timebank ledger (an empty or unfinished file?); nothing was restored"
        )
    conn = sqlite3.connect(temp)
    try:
        source_id = ledger_id(conn)
    finally:
        conn.close()
    source_anchors = read_anchor_file(anchor_path(source))
    if source_anchors.ledger_id not in (None, source_id):
        raise LedgerCorrupt(
            f"restore: the anchors beside {source} belong to another ledger; nothing was restored"
        )
    live_anchors = read_anchor_file(anchor_path(live))
    live_count, live_db_id = _peek(live)
    live_id = live_anchors.ledger_id or live_db_id
    with Ledger(temp) as copy:
        report = copy.verify(source_anchors.hashes)
        if not report.ok:
            raise LedgerCorrupt(
                f"restore: {source} does not verify, so it was not restored: {report.problem}"
            )
        if source_id is None and live_id is not None:  # a backup from before ledgers had ids
            with copy.transaction() as write:
                write.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('ledger_id', ?)", (live_id,))
        new_id = ledger_id(copy.conn)
        entries = copy.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        mismatch = None
        kept: dict[int, str] = {}
        for entry_id, digest in copy.conn.execute("SELECT id, hash FROM entries ORDER BY id"):
            vouched = live_anchors.hashes.get(entry_id)
            if vouched is not None and vouched != digest and mismatch is None:
                mismatch = entry_id
            if vouched is not None:
                kept[entry_id] = digest
            head = (entry_id, digest)
        if entries:
            kept[head[0]] = head[1]
    problem = None
    if source_id and live_id and source_id != live_id:
        problem = f"{source} is a backup of another ledger (id {source_id[:8]}, this one's is {live_id[:8]})"
    elif mismatch is not None:
        problem = (
            f"entry #{mismatch} in {source} is not the entry #{mismatch} the ledger's anchors "
            f"recorded when it was written: its history was rewritten from #{mismatch} or before"
        )
    if problem and not override:
        raise LedgerCorrupt(
            f"restore: {problem}; nothing was restored (a co-ordinator who has checked it may "
            f"restore it anyway with --override-history REASON, which is recorded)"
        )
    had = max(live_count or 0, max(live_anchors.hashes, default=0))
    if entries < had and not allow_fewer:
        raise InputError(
            f"restore: {source} has {_entries(entries)} but the ledger has {had}, so restoring it "
            f"would lose {_entries(had - entries)}; nothing was restored (add --allow-fewer to go "
            f"back to it anyway)"
        )
    who = ", ".join(filter(None, [actor and f"as {actor}", f"user {_os_user()}"]))
    notes = [n.lstrip("# ") for n in _notes(live_anchors.path)]
    notes = [n for n in notes if not n.startswith("timebank anchors")]
    notes.append(
        f"restored at {now_utc()} from {real_path(source)}: {entries} entries "
        f"(the ledger had {live_count if live_count is not None else 'unreadable'}; {who})"
    )
    if problem:
        notes.append(f"history override at {now_utc()} ({who}): {problem}; reason: {_one_line(override)}")
        kept = {head[0]: head[1]} if entries else {}
    _write_anchors(Path(f"{temp}.anchors"), anchors_text(new_id, kept, notes))
    if live.exists():
        share_like(temp, live)
        share_like(Path(f"{temp}.anchors"), live)
    aside = install_ledger(temp, live, label="before-restore")
    return Restored(report, live, aside, entries, live_count, bool(problem))


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _notes(path: Path) -> list[str]:
    """The ``#`` records of an anchors file (earlier restores and overrides), carried forward."""
    if not path.exists():
        return []
    lines = path.read_text("ascii", errors="replace").splitlines()
    return [line for line in lines if line.startswith("#")]


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())[:500]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
