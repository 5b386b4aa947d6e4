"""Members over SSH: their keys in the ledger, and the ``authorized_keys`` lines that force them.

OpenSSH proves who is knocking (the member holds the private key); this module only
decides what that key may run. Each key line is written as

    command="/abs/timebank shell --member HANDLE --ledger /abs/ledger.sqlite",restrict,pty KEY

so sshd runs ``timebank shell`` as the service account whatever the member asked for, with
no forwarding, no agent, no X11 (``restrict``) but a terminal for the TUI (``pty``). The
lines timebank writes sit between two marker lines; anything else in the file (the
owner's own keys) is left as it was. The file is rewritten whole (a temporary file
renamed over it, mode 0600) inside the ledger's write transaction: if writing it fails,
nothing is recorded; a revocation removes the line before its record commits. The
statements on keys are ``timebank.storage.identity``'s.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timebank.errors import InputError, NotFound
from timebank.models import MemberKey
from timebank.permissions import MANAGE_MEMBERS, Actor, actor_label
from timebank.storage import identity
from timebank.storage.store import now_utc

if TYPE_CHECKING:
    from timebank.ledger import Ledger

KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
BEGIN = "# timebank: keys below are written by 'timebank access'; edit them with it"
END = "# timebank: end of keys written by 'timebank access'"
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./+@:,=-]+$")


def default_authorized_keys() -> Path:
    """``TIMEBANK_AUTHORIZED_KEYS``, else the service account's ``~/.ssh/authorized_keys``."""
    if os.environ.get("TIMEBANK_AUTHORIZED_KEYS"):
        return Path(os.environ["TIMEBANK_AUTHORIZED_KEYS"])
    return Path.home() / ".ssh" / "authorized_keys"


def default_program() -> Path:
    """The ``timebank`` program beside this Python (the virtual environment's), absolute."""
    beside = Path(sys.executable).parent / "timebank"
    return beside.absolute()


def parse_key(text: str, where: str = "key") -> str:
    """One public key line (``TYPE BASE64 [comment]``), checked: no options, no second line."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 1:
        raise InputError(f"{where}: a key file holds exactly one public key line, found {len(lines)}")
    parts = lines[0].split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise InputError(
            f"{where}: not an OpenSSH public key (it must start with a key type such as ssh-ed25519, "
            "with no options)"
        )
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise InputError(f"{where}: the key's base64 part is damaged") from None
    if not blob.startswith(len(parts[0]).to_bytes(4, "big") + parts[0].encode()):
        raise InputError(f"{where}: the key's data does not match its type {parts[0]}")
    comment = " ".join(parts[2:])
    if any(ch in comment for ch in "\"\\'`$"):
        comment = ""
    return f"{parts[0]} {parts[1]}" + (f" {comment}" if comment else "")


def fingerprint(key: str) -> str:
    """The key's SHA256 fingerprint as ``ssh-keygen -lf`` prints it (``SHA256:…``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".pub") as tmp:
        tmp.write(key + "\n")
        tmp.flush()
        done = subprocess.run(["ssh-keygen", "-lf", tmp.name], capture_output=True, text=True, check=False)
    if done.returncode != 0 or len(done.stdout.split()) < 2:
        raise InputError(f"key: ssh-keygen does not accept it ({done.stderr.strip() or 'no output'})")
    return done.stdout.split()[1]


def key_line(member: str, key: str, ledger_path: Path, program: Path) -> str:
    """The ``authorized_keys`` line that forces this key to ``timebank shell --member``.

    sshd hands the forced command to the account's shell, so every word in it is quoted;
    paths with characters a shell or the key line's own quoting would read are refused.
    """
    for label, path in (("ledger", ledger_path), ("program", program)):
        if not path.is_absolute() or not _SAFE_PATH.match(str(path)):
            raise InputError(
                f"access: the {label} path {str(path)!r} must be absolute and use only letters, "
                "digits and ./_-+@:,="
            )
    words = [str(program), "shell", "--member", member, "--ledger", str(ledger_path)]
    command = " ".join(shlex.quote(w) for w in words)
    return f'command="{command}",restrict,pty {key}'


class AccessMixin:
    """Members' SSH keys: add, list, revoke; the ``authorized_keys`` file follows the ledger."""

    def member_keys(self: Ledger, *, include_revoked: bool = False) -> list[MemberKey]:
        return identity.member_keys(self.conn, include_revoked=include_revoked)

    def add_key(
        self: Ledger,
        handle: str,
        key_text: str,
        *,
        actor: Actor,
        authorized_keys: Path,
        program: Path | None = None,
        where: str = "key",
    ) -> MemberKey:
        """Record ``handle``'s public key and write its forced line (a co-ordinator's action)."""
        key = parse_key(key_text, where)
        found = fingerprint(key)
        with self.transaction() as conn:
            self.require(actor, MANAGE_MEMBERS, handle)
            member = self.member(handle)
            if not member.is_active:
                raise InputError(f"access: {handle} is retired; a retired member gets no key")
            taken = identity.holder_of(conn, found)
            if taken:
                raise InputError(f"access: the key {found} is already {taken}'s")
            key_id = identity.add_key(
                conn,
                member=handle,
                key=key,
                fingerprint=found,
                added_at=now_utc(),
                added_by=actor_label(actor),
            )
            self._write_authorized_keys(conn, authorized_keys, program)
        return _kept(identity.member_key(self.conn, key_id))

    def revoke_key(
        self: Ledger, which: str, *, actor: Actor, authorized_keys: Path, program: Path | None = None
    ) -> MemberKey:
        """Revoke a key (by its number or fingerprint): its line goes, the record stays."""
        with self.transaction() as conn:
            self.require(actor, MANAGE_MEMBERS, which)
            key_id = identity.key_in_use(conn, which)
            if key_id is None:
                raise NotFound(f"access: no key {which!r} in use (see 'timebank access list')")
            identity.revoke_key(conn, key_id, revoked_at=now_utc(), revoked_by=actor_label(actor))
            self._write_authorized_keys(conn, authorized_keys, program)
        return _kept(identity.member_key(self.conn, key_id))

    def _write_authorized_keys(self: Ledger, conn: Any, path: Path, program: Path | None) -> None:
        """Rewrite timebank's block of ``path`` from the keys in use, keeping every other line."""
        ledger_path = Path(self.path).absolute()
        ours = [
            key_line(k.member, k.key, ledger_path, program or default_program())
            for k in identity.member_keys(conn)
        ]
        kept = []
        if path.exists():
            inside = False
            for line in path.read_text().splitlines():
                if line == BEGIN:
                    inside = True
                elif line == END:
                    inside = False
                elif not inside:
                    kept.append(line)
        text = "\n".join([*kept, BEGIN, *ours, END]) + "\n"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".authorized_keys.")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            if path.exists():
                st = path.stat()
                with contextlib.suppress(PermissionError):  # keep the file its owner's
                    os.chown(tmp, st.st_uid, st.st_gid)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _kept(key: MemberKey | None) -> MemberKey:
    """The key just written, read back (it is there: its transaction has committed)."""
    assert key is not None
    return key


def added_on(key: MemberKey) -> str:
    """When a key was added, as a day."""
    return dt.datetime.fromisoformat(key.added_at.replace("Z", "+00:00")).date().isoformat()
