"""The whole ledger as one JSON bundle, and its restoration into a new file, verbatim.

``export ledger`` writes members, accounts, every version of the rules, period closes and
every entry with its postings, refs, recorder, time of recording, rules version and
hashes. ``import ledger`` writes them back into a new ledger file exactly as they were, so
the hash chain, every statement and every balance come out the same and ``verify`` holds.

What the bundle does not carry: claims (not in the ledger), the member change log, plugins'
own tables (Han groups, referrals, benefit claims) and publications. A restored ledger's
entries are the same entries; those records start empty.

Before anything is written the bundle is checked whole: ids run from 1 without a gap, every
entry's postings are whole minutes on known accounts and sum to zero, each entry reverses
only an earlier one, and each hash matches its content and links to the one before (so an
edited bundle is refused, naming the entry). The new file is removed again if any check
fails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from timebank.chain import ENTRY_FIELDS, GENESIS, entry_hash
from timebank.errors import InputError, NotAllowed
from timebank.interchange.exports import iter_entries
from timebank.ledger import Ledger
from timebank.models import Member, encode_refs
from timebank.permissions import RESERVED_HANDLES
from timebank.plugin_manager import default_plugins
from timebank.rules import build_rules, check_rules
from timebank.storage import bundles as stored
from timebank.storage.anchors import append_anchor, set_aside_orphans
from timebank.storage.store import SCHEMA_VERSION, Store
from timebank.units import NAME_LENGTH, NOTE_LENGTH, check_flag, check_text, text_fault

FORMAT = "timebank-ledger"
VERSION = 1
MEMBER_FIELDS = stored.MEMBER_FIELDS


def write_bundle(ledger: Ledger, out: IO[str]) -> int:
    """Write the bundle as JSON (one entry a line); returns how many entries."""
    conn = ledger.conn
    head = {
        "format": FORMAT,
        "version": VERSION,
        "schema_version": SCHEMA_VERSION,
        "coop": ledger.rules.coop.get("name", ""),
        "rules": [
            {**version, "data": json.loads(version["data"])} for version in stored.rules_versions(conn)
        ],
        "members": stored.members(conn),
        "accounts": stored.accounts(conn),
        "period_closes": stored.period_closes(conn),
    }
    text = json.dumps(head, ensure_ascii=False, indent=1)
    out.write(text[: text.rindex("}")].rstrip() + ',\n "entries": [')
    count = 0
    for entry in iter_entries(ledger):
        record = {
            "id": entry.id,
            "kind": entry.kind,
            "day": entry.day.isoformat(),
            "recorded_at": entry.recorded_at,
            "recorded_by": entry.recorded_by,
            "givers": list(entry.givers),
            "receivers": list(entry.receivers),
            "minutes": entry.minutes,
            "category": entry.category,
            "note": entry.note,
            "rules_version": entry.rules_version,
            "reverses": entry.reverses,
            "refs": dict(entry.refs),
            "prev_hash": entry.prev_hash,
            "hash": entry.hash,
            "postings": [[p.account, p.amount] for p in entry.postings],
        }
        out.write(("\n  " if count == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n ]\n}\n")
    return count


def read_bundle(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: is not a ledger bundle ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f'{path}: is not a ledger bundle (no "format": "{FORMAT}")')
    if data.get("version") != VERSION:
        raise InputError(f"{path}: bundle version {data.get('version')!r}; this timebank reads {VERSION}")
    for key in ("rules", "members", "accounts", "entries"):
        if not isinstance(data.get(key), list):
            raise InputError(f"{path}: {key}: missing or not a list")
    return data


def _fields(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    """An entry's ``chain.ENTRY_FIELDS`` exactly as stored (and hashed)."""
    return (
        entry["id"],
        entry["kind"],
        entry["day"],
        entry["recorded_at"],
        entry["recorded_by"],
        " ".join(entry["givers"]),
        " ".join(entry["receivers"]),
        entry["minutes"],
        entry["category"],
        entry["note"],
        entry["rules_version"],
        entry["reverses"],
        encode_refs(entry["refs"]),
    )


def check_bundle(data: Mapping[str, Any], actor: str) -> None:
    """Refuse a bundle that would not restore verbatim; each error names the entry or field."""
    schema = data.get("schema_version")
    if type(schema) is not int or not 1 <= schema <= SCHEMA_VERSION:
        raise InputError(
            f"schema_version: {schema!r}; this timebank restores bundles up to schema {SCHEMA_VERSION}"
        )
    _check_members(data["members"])
    _check_rules(data["rules"])
    members = {m.get("handle"): m for m in data["members"] if isinstance(m, dict)}
    who = members.get(actor)
    if who is None or who.get("role") != "coordinator" or who.get("status") != "active":
        raise NotAllowed(
            f"actor: only an active co-ordinator of the bundled co-op may restore it, not {actor!r}"
        )
    versions = {r.get("version") for r in data["rules"] if isinstance(r, dict)}
    accounts = {a.get("code") for a in data["accounts"] if isinstance(a, dict)}
    prev = GENESIS
    for position, entry in enumerate(data["entries"], start=1):
        where = f"entries: entry #{position}"
        try:
            if entry["id"] != position:
                raise InputError(f"{where}: has id {entry['id']!r}; ids must run from 1 without a gap")
            postings = [(str(code), amount) for code, amount in entry["postings"]]
            fields = _fields(entry)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: is incomplete ({exc!r})") from None
        for code, amount in postings:
            if type(amount) is not int:
                raise InputError(f"{where}: {amount!r} on {code} is not whole minutes")
            if code not in accounts:
                raise InputError(f"{where}: posts to {code!r}, which is not among the accounts")
        total = sum(amount for _, amount in postings)
        if total != 0:
            raise InputError(f"{where}: its postings sum to {total}, not zero")
        if entry["rules_version"] not in versions:
            raise InputError(f"{where}: names rules version {entry['rules_version']!r}, which is not bundled")
        reverses = entry["reverses"]
        if reverses is not None and not (type(reverses) is int and 0 < reverses < position):
            raise InputError(f"{where}: reverses {reverses!r}, which is not an earlier entry")
        for field, value, limit in (("note", entry["note"], NOTE_LENGTH), ("kind", entry["category"], 100)):
            fault = text_fault(value, limit) if isinstance(value, str) else "is not text"
            if fault is not None:
                raise InputError(f"{where}: {field} {fault}")
        if entry.get("prev_hash") != prev or entry_hash(prev, fields, postings) != entry.get("hash"):
            raise InputError(f"{where}: its hash does not match its content; the bundle was changed")
        prev = entry["hash"]


def _check_members(rows: list[Any]) -> None:
    """Every member as the ledger's own checks would take them: the same one text check,
    a handle that is not the ledger's own actor, one-word flags, a known role and status."""
    for position, row in enumerate(rows, start=1):
        where = f"members: member #{position}"
        try:
            member = Member.from_row({f: row[f] for f in MEMBER_FIELDS})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{where}: is incomplete or malformed ({exc})") from None
        if member.handle in RESERVED_HANDLES:
            raise InputError(f"{where}: the handle {member.handle!r} names the ledger's own actions")
        if member.role not in ("member", "coordinator") or member.status not in ("active", "retired"):
            raise InputError(f"{where}: role {member.role!r} or status {member.status!r} is not known")
        check_text(member.name, field=f"{where} name", max_length=NAME_LENGTH)
        check_text(member.member_class, field=f"{where} class", max_length=100)
        if member.area is not None:
            check_text(member.area, field=f"{where} area", max_length=100)
        for flag in member.flags:
            check_flag(flag, field=f"{where} flags")


def _check_rules(versions: list[Any]) -> None:
    """The rules in force (the newest version) pass the same checks as ``rules load``."""
    if not versions or not isinstance(versions[-1], dict):
        raise InputError("rules: the bundle carries no rules")
    plugins = default_plugins()
    declared = plugins.declared_settings()
    try:
        newest = build_rules(versions[-1].get("data"), declared)
    except (TypeError, AttributeError) as exc:
        raise InputError(f"rules: the newest version is malformed ({exc})") from None
    check_rules(newest, declared, plugins)
    for version in versions:
        check_text(str(version.get("note", "")), field="rules note")


def restore_bundle(source: Path, path: Path, *, actor: str, dry_run: bool = False) -> str:
    """Restore ``source`` into the new ledger file ``path``; returns what was restored, in words."""
    data = read_bundle(source)
    if path.exists():
        raise InputError(f"ledger: {path} already exists; import a ledger only into a new file")
    check_bundle(data, actor)
    summary = (
        f"{len(data['entries'])} entries, {len(data['members'])} members, {len(data['rules'])} rules versions"
    )
    if dry_run:
        return summary
    set_aside_orphans(path)
    try:
        _write(data, path)
        with Ledger(path) as ledger:
            with ledger.transaction() as conn:  # plugins' own tables, empty
                ledger.create_plugin_tables(conn, ledger.rules)
            report = ledger.verify()
            if not report.ok:
                raise InputError(f"{source}: the restored ledger does not verify: {report.problem}")
    except BaseException:
        for suffix in ("", "-wal", "-shm", ".anchors"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
    return summary


def _write(data: Mapping[str, Any], path: Path) -> None:
    store = Store(path, create=True)
    try:
        with store.write() as conn:
            for r in data["rules"]:
                stored.insert_rules_version(
                    conn,
                    version=r["version"],
                    created_at=r["created_at"],
                    created_by=r["created_by"],
                    data=json.dumps(r["data"]),
                    note=r.get("note", ""),
                )
            member_ids = {m["handle"]: stored.insert_member(conn, m) for m in data["members"]}
            account_ids = {}
            for a in data["accounts"]:
                account_ids[a["code"]] = stored.insert_account(
                    conn,
                    code=a["code"],
                    kind=a["kind"],
                    name=a["name"],
                    member_id=member_ids.get(a["member"]) if a["member"] else None,
                )
            for close in data.get("period_closes", []):
                stored.insert_period_close(
                    conn, through=close["through"], closed_at=close["closed_at"], closed_by=close["closed_by"]
                )
            balances: dict[str, int] = {}
            touched: dict[str, int] = {}
            last = 0
            for entry in data["entries"]:
                postings = []
                for seq, (code, amount) in enumerate(entry["postings"]):
                    balances[code] = balances.get(code, 0) + amount
                    touched[code] = entry["id"]
                    postings.append((seq, account_ids[code], amount, balances[code]))
                row = dict(zip(ENTRY_FIELDS, _fields(entry), strict=True))
                stored.insert_entry(
                    conn, {**row, "prev_hash": entry["prev_hash"], "hash": entry["hash"]}, postings
                )
                last = entry["id"]
            stored.insert_balances(
                conn, [(account_ids[code], value, touched[code]) for code, value in balances.items()]
            )
        if data["entries"]:
            append_anchor(path, last, data["entries"][-1]["hash"])
    finally:
        store.close()


__all__ = ["check_bundle", "read_bundle", "restore_bundle", "write_bundle"]
