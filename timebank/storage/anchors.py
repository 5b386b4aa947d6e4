"""Anchors: the chain's head written outside the ledger file after every commit.

The hash chain shows that entries were changed behind the triggers' back, but someone with
the file could change an entry and recompute every hash after it. So after each committed
transaction timebank appends ``ID HASH`` (the last entry and its hash) to
``LEDGER.anchors``, a plain append-only text file beside the ledger, created private like
the ledger. ``verify`` checks the chain against every anchor: a chain rebuilt from some
entry, or entries cut off the end, no longer match what was recorded when they were
written. Published figures and backups record the head hash too, as further anchors.

The anchors file sits beside the ledger's *real* path (a ledger reached through a symlink
has one anchors file, not one per name) and starts with a header naming the ledger's id,
a random id stored in the ledger's ``meta`` table. A ledger never appends to, and
``verify`` refuses, anchors that carry another ledger's id: a copied or replaced ledger does
not share them. Lines starting with ``#`` are records (a restore, an override) kept for
people; they vouch for nothing. Files written before ids existed have no header and are
trusted for the ledger beside them, as before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from pathlib import Path

import attrs

from timebank.errors import LedgerCorrupt, TimebankError
from timebank.storage.store import create_private_file

HEADER = "# timebank anchors ledger="


@attrs.frozen
class Anchors:
    """What an anchors file says: whose ledger it belongs to, and entry id to hash."""

    path: Path
    ledger_id: str | None
    hashes: dict[int, str]
    # The first line that is neither the header, a note (``#``), an anchor nor a torn last
    # line: anchors are only ever appended by timebank, so such a line was written by hand.
    stray_line: int | None = None


def real_path(ledger_path: Path | str) -> Path:
    """The ledger's real path: symlinks resolved, so every name for it finds the same anchors."""
    return Path(os.path.realpath(ledger_path))


def anchor_path(ledger_path: Path | str) -> Path:
    real = real_path(ledger_path)
    return real.with_name(real.name + ".anchors")


def ledger_id(conn: sqlite3.Connection) -> str | None:
    """The random id a ledger carries in ``meta`` (from migration 3), or None if it has none."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def anchors_text(ledger_id_: str | None, hashes: dict[int, str], notes: list[str] = ()) -> str:  # type: ignore[assignment]
    """The whole text of an anchors file: header, notes (``#`` lines), then ``ID HASH`` lines."""
    lines = [f"{HEADER}{ledger_id_}"] if ledger_id_ else []
    # A note is one line of ASCII, whatever path or reason it quotes: it can never forge an anchor.
    lines += ["# " + " ".join(note.split()).encode("ascii", "replace").decode() for note in notes]
    lines += [f"{entry_id} {digest}" for entry_id, digest in sorted(hashes.items())]
    return "".join(f"{line}\n" for line in lines)


def _create_with_header(path: Path, ledger_id_: str) -> None:
    """Create the anchors file with its header in one step (no one can append before it).

    It is shared like the ledger beside it: a ledger the co-op's group may write gets
    anchors the group may append to, or the group's members could not record.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.new")
    temp.unlink(missing_ok=True)
    create_private_file(temp)
    with contextlib.suppress(OSError):
        ledger = os.stat(path.with_name(path.name.removesuffix(".anchors")))
        if ledger.st_mode & 0o060 == 0o060:
            os.chown(temp, -1, ledger.st_gid)
            os.chmod(temp, 0o660)
    try:
        with open(temp, "w", encoding="ascii") as stream:
            stream.write(f"{HEADER}{ledger_id_}\n")
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def append_anchor(ledger_path: Path, entry_id: int, digest: str, *, ledger_id: str | None = None) -> None:
    """Record that entry ``entry_id`` had hash ``digest`` when it was committed.

    With a ``ledger_id``, a new file starts with a header naming it, and a file that names
    another ledger is left alone and the write is refused: it belongs to the ledger now at
    this path, and this one was moved or replaced while open.
    """
    path = anchor_path(ledger_path)
    try:
        if not path.exists():
            if ledger_id:
                _create_with_header(path, ledger_id)
            else:
                with contextlib.suppress(FileExistsError):
                    create_private_file(path)
        elif ledger_id:
            owner = _owner(path)
            if owner is not None and owner != ledger_id:
                raise LedgerCorrupt(
                    f"anchors: {path} belongs to another ledger (id {owner[:8]}…), so entry "
                    f"#{entry_id} was saved but not anchored: this ledger's file was moved or "
                    f"replaced while it was open"
                )
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, f"{entry_id} {digest}\n".encode())
        finally:
            os.close(fd)
    except OSError as exc:
        raise TimebankError(
            f"entry #{entry_id} is saved, but its anchor could not be added to {path} "
            f"({exc.strerror or exc}); make the anchors file writable so verify can vouch for it"
        ) from None


def _owner(path: Path) -> str | None:
    """The ledger id in an anchors file's header: only the first line is read, on every commit."""
    with open(path, "rb") as stream:
        first = stream.readline(200).decode("ascii", "replace").strip()
    if not first.startswith(HEADER):
        return None
    return first[len(HEADER) :].strip() or None


def read_anchor_file(path: Path) -> Anchors:
    """Read one anchors file (a torn last line, from a crash, is ignored)."""
    if not path.exists():
        return Anchors(path, None, {})
    owner = None
    hashes: dict[int, str] = {}
    stray = None
    text = path.read_text("ascii", errors="replace")
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if number == 0 and line.startswith(HEADER):
            owner = line[len(HEADER) :].strip() or None
            continue
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and len(parts[1]) == 64:
            hashes[int(parts[0])] = parts[1]
        elif line.strip() and not line.startswith("#") and stray is None:
            torn = number == len(lines) - 1 and not text.endswith("\n")
            stray = None if torn else number + 1
    return Anchors(path, owner, hashes, stray)


def read_anchors(ledger_path: Path) -> dict[int, str]:
    """Every anchor recorded beside the ledger (whoever they belong to: see ``read_anchor_file``)."""
    return read_anchor_file(anchor_path(ledger_path)).hashes


def stamp() -> str:
    """A time for set-aside names: to the microsecond, so two in one second do not clash."""
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")


def aside_name(path: Path, label: str) -> Path:
    """``PATH.LABEL-TIME``, a name no file has yet (ledger, side files and anchors alike)."""
    base = f"{path.name}.{label}-{stamp()}"
    n = 0
    while True:
        name = base if n == 0 else f"{base}-{n}"
        candidates = [path.with_name(name + s) for s in ("", "-wal", "-shm", "-journal", ".anchors")]
        if not any(os.path.lexists(c) for c in candidates):
            return path.with_name(name)
        n += 1


def set_aside_orphans(ledger_path: Path) -> None:
    """A new ledger at a path whose old ledger was deleted must not inherit its anchors."""
    path = anchor_path(ledger_path)
    if path.exists():
        path.replace(aside_name(path, "orphaned"))
