"""Output files that can never destroy the ledger: checked, written aside, renamed into place.

Every command that writes a file (``export --out``, ``publish --out`` and ``--metadata``,
``backup``, ``init``, ``demo``) goes through ``output_file``, because a mistyped path must
never cost a co-op its history:

* the target is compared with the ledger, its WAL, shared memory, journal and anchors with
  ``os.path.samefile``, so a symlink or a hard link to the ledger is the ledger;
* an existing file that holds somebody's history (a timebank ledger or backup, anchors, a
  WAL) or another application's SQLite database is never replaced, whatever its name;
* the content goes to a temporary file in the target's folder, is flushed to disk, and is
  renamed over the target only once complete: a full disk, an error or a crash leaves the
  old file or no file, never half of one, and the temporary file is removed on any error.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from timebank.errors import InputError, TimebankError
from timebank.storage.store import file_uri, tables_in

#: What a command writes. Only ``public`` may replace an existing file of its own kind (a
#: SQLite file); ``csv`` and ``json`` may replace any file that is not SQLite, a WAL or anchors.
KINDS = ("csv", "json", "public", "backup", "ledger")
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_SIDE = ("-wal", "-shm", "-journal")
_WAL_MAGICS = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
GROUP_ENV = "TIMEBANK_GROUP"


class OutputRefused(InputError):
    """An output would have replaced something that must never be replaced."""


def is_disk_full(exc: BaseException) -> bool:
    """True for a full disk (or quota) whether the OS or SQLite reports it."""
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return True
    return isinstance(exc, sqlite3.DatabaseError) and (
        "database or disk is full" in str(exc) or getattr(exc, "sqlite_errorcode", None) == 13
    )


def disk_full(what: str, path: Path, *, nothing: str = "nothing was written") -> TimebankError:
    """The one sentence for a full disk: what failed, on which folder, and what was kept."""
    return TimebankError(f"{what}: the disk holding {path.parent} is full; {nothing}")


_LEDGER_FILES = (
    ("", "the ledger itself"),
    ("-wal", "the ledger's write-ahead log"),
    ("-shm", "the ledger's shared memory"),
    ("-journal", "the ledger's journal"),
    (".anchors", "the ledger's anchors"),
    (".import-lock", "the ledger's import marker"),
)


def ledger_files(ledger_path: Path) -> list[tuple[Path, str]]:
    """The files that make up a ledger, each with what it is: the file, SQLite's side files, anchors.

    Both the path as typed and the resolved real path are listed, so anchors left beside a
    symlink by an older timebank are protected too.
    """
    files = []
    for base in (Path(ledger_path), Path(os.path.realpath(ledger_path))):
        files += [(Path(f"{base}{suffix}"), label) for suffix, label in _LEDGER_FILES]
    return files


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def what_is(path: Path) -> str | None:
    """What an existing file holds, for the files that must never be replaced, else None.

    One of ``ledger`` (a timebank ledger or backup), ``public`` (a file ``publish`` wrote),
    ``sqlite`` (another application's database), ``wal``, ``anchors``.
    """
    try:
        with open(path, "rb") as stream:
            head = stream.read(100)
    except (IsADirectoryError, FileNotFoundError):
        return None
    except OSError:
        return "unreadable"
    if head[:4] in _WAL_MAGICS:
        return "wal"
    if head.startswith(b"# timebank anchors"):
        return "anchors"
    first = head.split(b"\n", 1)[0].split()
    if len(first) == 2 and first[0].isdigit() and len(first[1]) == 64:
        return "anchors"
    if not head.startswith(_SQLITE_MAGIC):
        return None
    try:
        conn = sqlite3.connect(file_uri(path, "mode=ro&immutable=1"), uri=True)
        try:
            names = tables_in(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return "sqlite"
    if "entries" in names or "postings" in names:
        return "ledger"
    if "about" in names and "_tables" in names:
        return "public"
    return "sqlite"


_DESCRIBED = {
    "ledger": "a timebank ledger (or a backup of one)",
    "sqlite": "another application's SQLite database",
    "wal": "a SQLite write-ahead log",
    "anchors": "a ledger's anchors",
    "unreadable": "a file timebank cannot read",
}


def check_target(
    target: str | Path,
    *,
    ledger: Path | None,
    kind: str,
    replace: bool = True,
    field: str = "out",
) -> Path:
    """Refuse a target that is (or would replace) the ledger, its files, or someone's history.

    Returns the resolved target: a symlink is written through to its real file.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    typed, target = target, Path(os.path.realpath(target))
    if not replace and os.path.lexists(typed):  # not even a symlink is written through
        raise OutputRefused(f"{field}: {typed} already exists; choose a new name")
    if target.is_dir():
        raise OutputRefused(f"{field}: {typed} is a folder; name a file")
    if ledger is not None:
        for protected, label in ledger_files(ledger):
            if _same(target, protected) or target == Path(os.path.realpath(protected)):
                raise OutputRefused(f"{field}: {typed} is {label}; choose another name, nothing was written")
    for suffix in _SQLITE_SIDE:
        base = target.with_name(target.name.removesuffix(suffix))
        if target.name.endswith(suffix) and what_is(base) in ("ledger", "public", "sqlite"):
            # SQLite would take the file for part of that database, and delete it or read it
            raise OutputRefused(
                f"{field}: {typed} is named as the {suffix[1:]} file of the database {base}; "
                "choose another name, nothing was written"
            )
    if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
        if kind in ("csv", "json") and replace:
            return target  # a terminal or a pipe (``--out /dev/stdout``): written straight through
        raise OutputRefused(f"{field}: {typed} is not a regular file; name a file")
    if os.path.lexists(target):
        if not replace:
            raise OutputRefused(f"{field}: {typed} already exists; choose a new name")
        found = what_is(target)
        if found == "public" and kind == "public":
            return target
        if found is not None:
            raise OutputRefused(
                f"{field}: {typed} is {_DESCRIBED.get(found, 'a published timebank file')} "
                f"and is never replaced by a {kind} file; choose another name, nothing was written"
            )
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    if path.exists():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _side_files(temp: Path, companions: Sequence[str]) -> list[Path]:
    """Files a writer may leave beside a temporary file: SQLite's, and a ledger's anchors."""
    names = [f"{temp}{s}" for s in ("-journal", "-wal", "-shm", *companions)]
    # ``timebank.publishing.publish`` writes its own ``.NAME.tmp`` and renames it onto ours.
    names.append(str(temp.with_name(f".{temp.name}.tmp")))
    return [Path(n) for n in names]


def _place(temp: Path, target: Path, *, replace: bool, field: str) -> None:
    if replace:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)  # never replaces: fails if the name was taken meanwhile
    except FileExistsError:
        raise OutputRefused(f"{field}: {target} already exists; choose a new name") from None
    except OSError:  # a file system without hard links
        if os.path.lexists(target):
            raise OutputRefused(f"{field}: {target} already exists; choose a new name") from None
        os.rename(temp, target)
        return
    temp.unlink()


@contextmanager
def temporary_beside(
    target: Path,
    *,
    private: bool = True,
    group: str | None = None,
    companions: Sequence[str] = (),
    precreate: bool = True,
    field: str = "out",
    make_folder: bool = False,
) -> Iterator[Path]:
    """A temporary file in ``target``'s folder, removed (with its side files) on any error.

    ``private`` files (members' data) are created mode 600, or 660 for the co-op's ``group``
    (or ``TIMEBANK_GROUP``); public ones follow the umask. With ``precreate=False`` the name
    is free and the writer creates the file itself (exclusively, as ``Ledger.create`` does).
    A full disk or an unwritable folder becomes one sentence.
    """
    folder = target.parent
    try:
        if not folder.is_dir() and make_folder:
            folder.mkdir(parents=True, exist_ok=True)  # a first ledger in the per-user data folder
        if not folder.is_dir():
            raise OutputRefused(f"{field}: the folder {folder} does not exist")
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full(field, target, nothing=f"nothing was written to {target}") from None
        raise TimebankError(f"{field}: cannot write in {folder} ({exc.strerror})") from None
    os.close(fd)
    temp = Path(name)
    group = group or os.environ.get(GROUP_ENV)
    if not precreate:
        temp.unlink()
    elif private and group:
        import grp

        try:
            os.chown(temp, -1, grp.getgrnam(group).gr_gid)
        except KeyError:
            temp.unlink()
            raise TimebankError(f"group: there is no group called {group!r} on this machine") from None
        os.chmod(temp, 0o660)
    elif not private:
        os.chmod(temp, 0o666 & ~_umask())
    try:
        yield temp
    except BaseException as exc:
        for path in (temp, *_side_files(temp, companions)):
            with contextlib.suppress(OSError):
                path.unlink()
        if is_disk_full(exc):
            raise disk_full(field, target, nothing=f"nothing was written to {target}") from None
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            raise TimebankError(f"{field}: cannot write {target} ({exc.strerror})") from None
        raise


@contextmanager
def output_file(
    target: str | Path,
    *,
    ledger: Path | None,
    kind: str,
    replace: bool = True,
    private: bool = True,
    group: str | None = None,
    companions: Sequence[str] = (),
    field: str = "out",
    precreate: bool = True,
) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``target`` in one rename.

    The target is checked first (``check_target``) and again just before the rename.
    ``companions`` are suffixes of files written beside the temporary one (a backup's
    ``.anchors``), placed beside the target just before it. ``replace=False`` never
    replaces an existing file, even one created while writing. See ``temporary_beside``
    for modes and errors.
    """
    target = check_target(target, ledger=ledger, kind=kind, replace=replace, field=field)
    if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
        yield target  # a pipe or a terminal: nothing to rename, nothing half-written to keep
        return
    for suffix in companions:
        if os.path.lexists(f"{target}{suffix}"):
            raise OutputRefused(
                f"{field}: {target}{suffix} already exists (left by an earlier file); "
                f"move it away or choose another name"
            )
    with temporary_beside(
        target,
        private=private,
        group=group,
        companions=companions,
        precreate=precreate,
        field=field,
        make_folder=kind == "ledger",
    ) as temp:
        yield temp
        for suffix in companions:
            _fsync_file(Path(f"{temp}{suffix}"))
        _fsync_file(temp)
        check_target(target, ledger=ledger, kind=kind, replace=replace, field=field)
        placed = []
        try:
            for suffix in companions:
                if Path(f"{temp}{suffix}").exists():
                    _place(Path(f"{temp}{suffix}"), Path(f"{target}{suffix}"), replace=False, field=field)
                    placed.append(Path(f"{target}{suffix}"))
            _place(temp, target, replace=replace, field=field)
        except BaseException:
            for path in placed:  # ours, made a moment ago: the target was not placed after all
                path.unlink(missing_ok=True)
            raise
        _fsync_folder(target.parent)


@contextmanager
def new_ledger_file(path: str | Path) -> Iterator[Path]:
    """Where to build a new ledger (``init``, ``demo``): a temporary name beside ``path``,
    given ``path`` only once the block ends whole, so a full disk or a bad name never leaves
    half a ledger there. Anchors left by a ledger deleted from ``path`` are set aside first:
    they are not the new ledger's."""
    from timebank.storage.anchors import set_aside_orphans

    if not os.path.lexists(path):
        set_aside_orphans(Path(path))
    with output_file(
        path,
        ledger=None,
        kind="ledger",
        replace=False,
        companions=(".anchors",),
        precreate=False,
        field="ledger",
    ) as temp:
        yield temp


@contextmanager
def output_text(target: str | Path, *, ledger: Path | None, kind: str, private: bool = True) -> Iterator:
    """``output_file`` for text (CSV, JSON): yields an open UTF-8 stream."""
    with (
        output_file(target, ledger=ledger, kind=kind, private=private) as temp,
        open(temp, "w", newline="", encoding="utf-8") as stream,
    ):
        yield stream


# Replacing a whole ledger (restore, demo --force) -------------------------------------------

_LEDGER_SIDE = _SQLITE_SIDE
# SQLite's unix VFS holds a shared lock on this byte of the ``-shm`` file for as long as a
# connection has a WAL database open (the "dead man switch"): an exclusive lock on it can
# be taken only when no other process has the ledger open.
_SHM_DMS_BYTE = 128


def ledger_in_use(ledger_path: Path) -> bool:
    """True while any connection has the ledger open (every ledger runs in WAL mode).

    The probe runs in a forked child: closing a descriptor of the ``-shm`` file drops every
    POSIX lock the closing process holds on it, so a process with its own connection to
    the ledger must never open and close it itself. Locks are per process, so the child
    also sees this process's own connections as "in use", which is what a restore needs.
    """
    shm = Path(f"{os.path.realpath(ledger_path)}-shm")
    if not shm.exists():
        return False
    pid = os.fork()
    if pid == 0:  # the child: only system calls, then _exit
        code = 1
        try:
            import fcntl

            fd = os.open(shm, os.O_RDWR)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
                code = 0
            except OSError:
                code = 1
        except OSError:
            code = 0 if not shm.exists() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) != 0


@contextmanager
def ledger_replacement(ledger_path: Path, *, what: str) -> Iterator[Path]:
    """Hold the folder while a ledger is replaced; refuse if another process has it open.

    Yields the ledger's real path. Two restores (or a restore and ``demo --force``) in the
    same folder take turns instead of interleaving their renames.
    """
    import fcntl

    live = Path(os.path.realpath(ledger_path))
    if not live.parent.is_dir():
        raise OutputRefused(f"ledger: the folder {live.parent} does not exist")
    fd = os.open(live.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if ledger_in_use(live):
            raise OutputRefused(
                f"{what}: {live} is open in another process (the terminal UI, a 'timebank log' or "
                f"an import) or connection; close it first; nothing was changed"
            )
        yield live
    finally:
        os.close(fd)


def share_like(path: Path, model: Path) -> None:
    """Give ``path`` the permissions and group of ``model`` (a restored ledger, its anchors).

    A co-op whose group shares the ledger must still share it after a restore.
    """
    with contextlib.suppress(OSError):
        st = os.stat(model)
        os.chown(path, -1, st.st_gid)
        os.chmod(path, stat.S_IMODE(st.st_mode))


def install_ledger(temp: Path, live: Path, *, label: str) -> Path | None:
    """Put the complete ledger at ``temp`` (and its ``temp.anchors``) in the place of ``live``.

    The ledger it replaces, with its side files and anchors, is moved aside to
    ``LIVE.LABEL-TIME`` (never deleted) and that path is returned. The anchors move before
    the ledger, so at no moment does a ledger sit beside anchors that are not its own.
    Call inside ``ledger_replacement``.
    """
    from timebank.storage.anchors import anchor_path, aside_name

    new_anchors = Path(f"{temp}.anchors")
    _fsync_file(new_anchors)
    _fsync_file(temp)
    aside = None
    old_anchors = anchor_path(live)
    if os.path.lexists(live) or old_anchors.exists():
        aside = aside_name(live, label)
        if old_anchors.exists():
            os.rename(old_anchors, anchor_path(aside))
        for suffix in ("", *_LEDGER_SIDE):
            if os.path.lexists(f"{live}{suffix}"):
                os.rename(f"{live}{suffix}", f"{aside}{suffix}")
    if new_anchors.exists():
        os.rename(new_anchors, old_anchors)
    os.rename(temp, live)
    _fsync_folder(live.parent)
    return aside
