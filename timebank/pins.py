"""PINs for the shared terminal (``timebank kiosk``): slow salted hashes, attempts, lockouts.

A PIN is never stored, only ``hashlib.scrypt`` of it with a random 16-byte salt and the
parameters ``N=2**14, r=8, p=1`` (16 MiB of memory, some tens of milliseconds a guess),
written as ``scrypt$N$r$p$SALT$HASH`` so stronger parameters can come later and old
hashes still check. A PIN of 4 to 12 digits is weak against someone who has the ledger
file (they can try every PIN offline); the file's owner is trusted anyway
(docs/security.md). At the kiosk the guard is the lockout: after ``LOCK_AFTER`` wrong
PINs in a row a member's PIN is refused for ``LOCK_MINUTES``, and every attempt (right,
wrong, or refused while locked) is recorded in ``pin_attempts``.

Every check reads the attempts and records its own in one ``BEGIN IMMEDIATE``
transaction, so kiosks racing each other cannot get more guesses than the rule allows. The
statements on PINs and attempts are ``timebank.storage.identity``'s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

import attrs

from timebank.errors import InputError, NotAllowed, NotFound
from timebank.permissions import MANAGE_MEMBERS, Actor, actor_label
from timebank.storage import identity

if TYPE_CHECKING:
    from timebank.ledger import Ledger
    from timebank.models import Member

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN = 2**14, 8, 1, 32
LOCK_AFTER = 5
LOCK_MINUTES = 15
PIN_DIGITS = (4, 12)
CODE_DIGITS = 8


def hash_pin(
    pin: str, *, salt: bytes | None = None, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> str:
    """``scrypt$N$r$p$SALT$HASH`` for ``pin`` (a fresh random salt unless given)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_DKLEN, maxmem=64 * 2**20)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Does ``pin`` hash to ``stored``, with the parameters stored beside it (constant time)?"""
    try:
        kind, n, r, p, salt, _ = stored.split("$")
        assert kind == "scrypt"
        again = hash_pin(pin, salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, AssertionError):
        return False
    return hmac.compare_digest(again, stored)


def check_pin_text(pin: str) -> str:
    low, high = PIN_DIGITS
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise InputError(f"pin: a PIN is {low} to {high} digits")
    return pin


@attrs.frozen
class Unlocked:
    """A PIN that was right: the member, and whether it was a one-time code to replace now."""

    member: Member
    one_time: bool


def _utc(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class PinsMixin:
    """Setting PINs, issuing one-time codes, checking a PIN with lockout."""

    def set_pin(self: Ledger, handle: str, pin: str, *, actor: Actor, now: dt.datetime | None = None) -> None:
        """A member sets their own PIN (only their own: proven, or the owner's ``--as``)."""
        check_pin_text(pin)
        with self.transaction() as conn:
            member = self.actor(actor)  # an empty actor is the proven member
            if member.handle != handle:
                raise NotAllowed(f"pin: {member.handle} may set only their own PIN, not {handle}'s")
            self._store_pin(conn, handle, hash_pin(pin), one_time=False, by=member.handle, now=now)

    def issue_code(self: Ledger, handle: str, *, actor: Actor, now: dt.datetime | None = None) -> str:
        """A co-ordinator issues a one-time code; the member chooses their PIN on first use."""
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        with self.transaction() as conn:
            self.require(actor, MANAGE_MEMBERS, handle)
            member = self.member(handle)
            if not member.is_active:
                raise InputError(f"pin: {handle} is retired")
            self._store_pin(conn, handle, hash_pin(code), one_time=True, by=actor_label(actor), now=now)
        return code

    def _store_pin(self: Ledger, conn, handle: str, hashed: str, *, one_time: bool, by: str, now) -> None:  # type: ignore[no-untyped-def]
        identity.store_pin(conn, handle, hashed, one_time=one_time, set_at=_stamp(_utc(now)), set_by=by)

    def locked_until(
        self: Ledger, handle: str, now: dt.datetime | None = None, conn=None
    ) -> dt.datetime | None:  # type: ignore[no-untyped-def]
        """When ``handle``'s lockout ends, or None: ``LOCK_AFTER`` wrong PINs in a row lock it."""
        outcomes = identity.last_outcomes(conn or self.conn, handle, LOCK_AFTER)
        if len(outcomes) < LOCK_AFTER or any(ok for _, ok in outcomes):
            return None
        last = dt.datetime.fromisoformat(outcomes[0][0].replace("Z", "+00:00"))
        until = last + dt.timedelta(minutes=LOCK_MINUTES)
        return until if until > _utc(now) else None

    def check_pin(
        self: Ledger, handle: str, pin: str, *, place: str = "kiosk", now: dt.datetime | None = None
    ) -> Unlocked:
        """The member whose PIN this is, or ``NotAllowed``; the attempt is recorded either way."""
        moment = _utc(now)
        outcome: Unlocked | str
        with self.transaction(settle_claims=False) as conn:
            until = self.locked_until(handle, moment, conn)
            stored = identity.stored_pin(conn, handle)
            try:
                member = self.member(handle)
            except NotFound:
                member = None
            if until is not None:
                ok, outcome = (
                    -1,
                    f"pin: {handle} is locked after {LOCK_AFTER} wrong PINs until {until:%H:%M} UTC",
                )
            elif stored is None or member is None or not member.is_active or not pin_matches(pin, stored[0]):
                ok, outcome = 0, "pin: that handle and PIN do not match"
            else:
                ok, outcome = 1, Unlocked(member, stored[1])
            identity.add_pin_attempt(conn, handle, at=_stamp(moment), ok=ok, place=place)
            if ok == 0 and self.locked_until(handle, moment, conn) is not None:
                outcome = f"{outcome}; {handle} is now locked for {LOCK_MINUTES} minutes"
        if isinstance(outcome, str):
            raise NotAllowed(outcome)
        return outcome

    def pin_attempts(self: Ledger, handle: str) -> list[tuple[str, int, str]]:
        """Every attempt at ``handle``'s PIN: when, 1 right / 0 wrong / -1 while locked, where."""
        return identity.pin_attempts(self.conn, handle)
