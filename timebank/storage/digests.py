"""The SQL of the weekly digest's e-mail: ``digest_recipients`` (who agreed to receive it,
at which address) and ``digest_sends`` (what was sent to whom, and when).

Who may change a member's consent and what an address must look like is decided in
``timebank.digest``; here is only how it is stored. The addresses never leave the ledger:
no export or publication reads these tables.
"""

from __future__ import annotations

from typing import Any


def recipients(conn: Any) -> dict[str, str]:
    """Every member who agreed to e-mail, with their address."""
    return dict(conn.execute("SELECT member, email FROM digest_recipients").fetchall())


def set_recipient(conn: Any, member: str, email: str, agreed_on: str, recorded_by: str) -> None:
    """Store (or replace) ``member``'s address and the moment they agreed."""
    conn.execute(
        "INSERT INTO digest_recipients (member, email, agreed_on, recorded_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (member) DO UPDATE SET email = excluded.email, agreed_on = excluded.agreed_on,"
        " recorded_by = excluded.recorded_by",
        (member, email, agreed_on, recorded_by),
    )


def forget_recipient(conn: Any, member: str) -> None:
    """Forget ``member``'s address: they no longer want e-mail."""
    conn.execute("DELETE FROM digest_recipients WHERE member = ?", (member,))


def record_send(conn: Any, *, sent_at: str, member: str, email: str, kind: str, subject: str) -> None:
    """Note one message handed to the mail server."""
    conn.execute(
        "INSERT INTO digest_sends (sent_at, member, email, kind, subject) VALUES (?, ?, ?, ?, ?)",
        (sent_at, member, email, kind, subject),
    )


__all__ = ["forget_recipient", "record_send", "recipients", "set_recipient"]
