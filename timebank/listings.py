"""Offers and requests: the board members post on, matching, and the listings' history.

Listings live in the ledger file beside the hash-chained entries, never inside them: a
listing is what someone says they can give or need, not a fact of care given. Every change
is a row in ``listing_events`` (append-only), so who posted, answered, accepted, withdrew
and when is kept. "Expired" is worked out when a listing is read (an open listing past its
expiry day), so reading never writes. An entry whose refs carry ``listing=N`` marks the
listing done in the same transaction (a trigger of migration 5), whichever path recorded
it; reversing that entry reopens it. Their SQL lives in ``timebank.storage.listings``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from timebank.errors import InputError, NotAllowed, NotFound, PluginFailed, RulesRefused
from timebank.models import Exchange, Member, Problem
from timebank.storage import listings as stored
from timebank.storage.store import now_utc
from timebank.units import check_text

if TYPE_CHECKING:
    from timebank.ledger import Ledger

ListingKind = Literal["offer", "request"]
KINDS: tuple[str, ...] = ("offer", "request")
STATES: tuple[str, ...] = ("open", "taken up", "done", "withdrawn", "expired")
_STORED_STATE = {"open": "open", "taken": "taken up", "done": "done", "withdrawn": "withdrawn"}
PLUGIN = "listings"
REF = "listing"
MATCH_LIMIT = 20
HISTORY = 2000  # past givers are found among this many most recent exchanges of the kind

TIERS = {
    0: "same kind, same area",
    1: "same kind, neighbouring area",
    2: "neighbouring kind, same area",
    3: "neighbouring kind and area",
    4: "has given this kind of care before",
}


@attrs.frozen
class Listing:
    """An offer ("I can do this") or a request ("I need this") by one member.

    ``status`` is what is stored (``open``, ``taken``, ``done``, ``withdrawn``); ``state``
    adds ``expired``, derived from ``expires_on`` and the day it is read.
    """

    id: int
    kind: ListingKind = attrs.field(validator=attrs.validators.in_(KINDS))
    member: str
    posted_by: str
    category: str
    title: str
    description: str = ""
    area: str = ""
    availability: str = "flexible"
    posted_at: str = ""
    posted_on: dt.date = dt.date(1970, 1, 1)
    expires_on: dt.date = dt.date(1970, 1, 1)
    status: str = "open"
    taken_by: str | None = None
    entry_id: int | None = None

    def state(self, today: dt.date) -> str:
        """One of ``STATES`` as of ``today``: an open listing past its expiry is expired."""
        if self.status == "open" and self.expires_on < today:
            return "expired"
        return _STORED_STATE[self.status]

    def is_open(self, today: dt.date) -> bool:
        return self.state(today) == "open"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Listing:
        return cls(
            id=row["id"],
            kind=row["kind"],
            member=row["member"],
            posted_by=row["posted_by"],
            category=row["category"],
            title=row["title"],
            description=row["description"],
            area=row["area"],
            availability=row["availability"],
            posted_at=row["posted_at"],
            posted_on=dt.date.fromisoformat(row["posted_on"]),
            expires_on=dt.date.fromisoformat(row["expires_on"]),
            status=row["status"],
            taken_by=row["taken_by"],
            entry_id=row["entry_id"],
        )

    def to_row(self) -> dict[str, Any]:
        """The stored fields by column name, days as ISO text (the inverse of ``from_row``)."""
        data = attrs.asdict(self)
        data["posted_on"] = self.posted_on.isoformat()
        data["expires_on"] = self.expires_on.isoformat()
        return data

    def to_dict(self, today: dt.date) -> dict[str, Any]:
        """As shown by ``--format json``: stored fields, dates as ISO text, and the state."""
        data = self.to_row()
        data["state"] = self.state(today)
        del data["status"]
        return data


@attrs.frozen
class Answer:
    """A member saying "I can help" to a request, or "I'd like that" to an offer."""

    listing_id: int
    member: str
    at: str
    note: str = ""


@attrs.frozen
class ListingEvent:
    """One line of a listing's history."""

    listing_id: int
    at: str
    by: str
    action: str
    detail: str = ""


@attrs.frozen
class Match:
    """A member who may fit ``listing_id``: through their own listing ``other`` (an offer
    for a request, a request for an offer), or, with ``other`` None, because they have given
    this kind of care before. ``tier`` orders matches (see ``TIERS``); lower comes first."""

    listing_id: int
    member: str
    other: int | None
    tier: int
    reason: str
    title: str = ""
    area: str = ""
    category: str = ""

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


# The field names programs see (``--format json|csv``): a listing's (``Listing.to_dict``), a match's.
FIELDS = (*(f.name for f in attrs.fields(Listing) if f.name != "status"), "state")
MATCH_FIELDS = tuple(f.name for f in attrs.fields(Match))


def fts_query(text: str) -> str:
    """What a person typed as an FTS5 query: every word, each as a prefix, all required.

    Words are quoted, so FTS5 syntax (``AND``, ``NEAR``, ``"``, ``*``) typed by a member
    is searched for as text and never raises.
    """
    words = re.findall(r"\w+", text)
    return " ".join(f'"{word}"*' for word in words)


class Listings:
    """The board of one ledger: posting, answering, accepting, searching, matching."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.conn = ledger.conn

    # settings ---------------------------------------------------------------

    def expiry_days(self) -> int:
        return int(self.ledger.rules.coop.get("listing_expiry_days", 56))

    def _neighbours(self, key: str, value: str) -> list[str]:
        """``value`` and its neighbours as the rules declare them, both ways round."""
        table: Mapping[str, list[str]] = self.ledger.rules.coop.get(key, {}) or {}
        found = dict.fromkeys([value, *table.get(value, [])])
        for other, near in table.items():
            if value in near:
                found.setdefault(other, None)
        return list(found)

    # reading ----------------------------------------------------------------

    def get(self, listing_id: int) -> Listing:
        row = stored.listing(self.conn, listing_id)
        if row is None:
            raise NotFound(f"listing: no offer or request #{listing_id}")
        return Listing.from_row(row)

    def board(
        self,
        *,
        kind: str | None = None,
        state: str | None = "open",
        category: str | None = None,
        area: str | None = None,
        member: str | None = None,
        text: str | None = None,
        today: dt.date | None = None,
        posted_since: dt.date | None = None,
        limit: int | None = None,
    ) -> list[Listing]:
        """Listings filtered by kind, state (as of ``today``), kind of care, area, member,
        and words (FTS5, best matches first); newest first otherwise."""
        today = today or dt.date.today()
        if kind and kind not in KINDS:
            raise InputError(f"kind: {kind!r} is not offer or request")
        if state:
            _check_state(state)
        query = None
        if text and text.strip():
            query = fts_query(text)
            if not query:
                return []
        found = stored.find(
            self.conn,
            today=today,
            kind=kind,
            state=state,
            category=category,
            area=area,
            member=member,
            posted_since=posted_since,
            fts_query=query,
            limit=limit,
        )
        return [Listing.from_row(row) for row in found]

    def search(self, text: str, *, today: dt.date | None = None, **filters: Any) -> list[Listing]:
        """Full-text search of titles and descriptions among open listings (FTS5)."""
        return self.board(text=text, today=today, **filters)

    def history(self, listing_id: int) -> list[ListingEvent]:
        self.get(listing_id)
        return [ListingEvent(**row) for row in stored.events(self.conn, listing_id)]

    def answers(self, listing_id: int) -> list[Answer]:
        return [Answer(**row) for row in stored.answers(self.conn, listing_id)]

    def unanswered(self, days: int, *, today: dt.date | None = None) -> list[tuple[Listing, int]]:
        """Open requests nobody has answered, posted more than ``days`` days ago, with how
        many days each has waited: the people most at risk of being left without help."""
        today = today or dt.date.today()
        rows = stored.unanswered_requests(
            self.conn, today=today, posted_before=today - dt.timedelta(days=days)
        )
        listings = [Listing.from_row(row) for row in rows]
        return [(listing, (today - listing.posted_on).days) for listing in listings]

    # writing ----------------------------------------------------------------

    def post(
        self,
        kind: str,
        *,
        actor: str,
        category: str,
        title: str,
        member: str | None = None,
        description: str = "",
        area: str | None = None,
        availability: str = "flexible",
        expires_on: dt.date | None = None,
        today: dt.date | None = None,
    ) -> Listing:
        """Post an offer or a request for ``member`` (the actor, or anyone if the actor is a
        co-ordinator). The area defaults to the member's; expiry to the rules' days."""
        today = today or dt.date.today()
        acting = self.ledger.actor(actor)
        owner = self._owner(acting, member or acting.handle)
        listing = Listing(
            id=0,
            kind=_kind(kind),
            member=owner.handle,
            posted_by=acting.handle,
            category=category,
            title=title.strip(),
            description=description.strip(),
            area=(owner.area or "") if area is None else area.strip(),
            availability=availability.strip() or "flexible",
            posted_on=today,
            expires_on=expires_on or today + dt.timedelta(days=self.expiry_days()),
        )
        self._check(listing, today)
        with self.ledger.transaction() as conn:
            listing_id = stored.insert(conn, listing.to_row(), now_utc())
            self._event(conn, listing_id, acting.handle, "posted", f"{listing.kind}: {listing.title}")
        return self.get(listing_id)

    def change(self, listing_id: int, *, actor: str, today: dt.date | None = None, **changes: Any) -> Listing:
        """Change an open listing's title, description, area, times, kind of care or expiry."""
        today = today or dt.date.today()
        listing = self.get(listing_id)
        acting = self._may_manage(listing, actor)
        allowed = {"title", "description", "area", "availability", "category", "expires_on"}
        unknown = set(changes) - allowed
        if unknown:
            raise InputError(f"{sorted(unknown)[0]}: cannot be changed on a listing")
        if listing.state(today) not in ("open", "expired"):
            raise InputError(f"listing: #{listing_id} is {listing.state(today)} and cannot change")
        updated = attrs.evolve(listing, **{k: v for k, v in changes.items() if v is not None})
        self._check(updated, today)
        diff = {k: str(getattr(updated, k)) for k in allowed if getattr(updated, k) != getattr(listing, k)}
        with self.ledger.transaction() as conn:
            stored.update(conn, listing_id, updated.to_row(), now_utc())
            detail = ", ".join(f"{k}={v}" for k, v in sorted(diff.items()))
            self._event(conn, listing_id, acting.handle, "changed", detail)
        return self.get(listing_id)

    def withdraw(
        self,
        listing_id: int,
        *,
        actor: str,
        reason: str = "",
        done: bool = False,
        today: dt.date | None = None,
    ) -> Listing:
        """Take a listing off the board: withdrawn, or with ``done`` marked done (help came
        another way). The poster, the member it is for or a co-ordinator may."""
        today = today or dt.date.today()
        listing = self.get(listing_id)
        acting = self._may_manage(listing, actor)
        if listing.status in ("done", "withdrawn"):
            raise InputError(f"listing: #{listing_id} is already {listing.state(today)}")
        check_text(reason, field="reason", max_length=500)
        status = "done" if done else "withdrawn"
        with self.ledger.transaction() as conn:
            if not stored.close(
                conn, listing_id, status, now_utc()
            ):  # another writer got there first; re-checked inside the transaction
                raise InputError(f"listing: #{listing_id} was closed meanwhile")
            self._event(conn, listing_id, acting.handle, status, reason)
        return self.get(listing_id)

    def answer(self, listing_id: int, *, actor: str, note: str = "", today: dt.date | None = None) -> Answer:
        """A member answers an open listing; its owner (or a co-ordinator) may then accept."""
        today = today or dt.date.today()
        listing = self.get(listing_id)
        acting = self.ledger.actor(actor)
        if acting.handle == listing.member:
            raise InputError(f"listing: #{listing_id} is your own {listing.kind}")
        if not listing.is_open(today):
            raise InputError(f"listing: #{listing_id} is {listing.state(today)}, not open")
        check_text(note, field="note", max_length=500)
        refused = self.refusals(listing, [self._direct_match(listing, acting.handle)])
        if refused:
            raise RulesRefused(refused)
        with self.ledger.transaction() as conn:
            if stored.has_answered(conn, listing_id, acting.handle):
                raise InputError(f"listing: you have already answered #{listing_id}")
            answer = Answer(listing_id, acting.handle, now_utc(), note)
            stored.insert_answer(conn, listing_id, answer.member, answer.at, answer.note)
            self._event(conn, listing_id, acting.handle, "answered", note)
        return answer

    def accept(self, listing_id: int, member: str, *, actor: str, today: dt.date | None = None) -> Listing:
        """The listing's member (or a co-ordinator) accepts ``member``'s answer: taken up."""
        today = today or dt.date.today()
        listing = self.get(listing_id)
        acting = self._may_manage(listing, actor)
        if not listing.is_open(today):
            raise InputError(f"listing: #{listing_id} is {listing.state(today)}, not open")
        if member not in {a.member for a in self.answers(listing_id)}:
            raise InputError(f"member: {member!r} has not answered #{listing_id}")
        refused = self.refusals(listing, [self._direct_match(listing, member)])
        if refused:
            raise RulesRefused(refused)
        with self.ledger.transaction() as conn:
            if not stored.take(conn, listing_id, member, now_utc()):
                raise InputError(f"listing: #{listing_id} was taken up or closed meanwhile")
            self._event(conn, listing_id, acting.handle, "accepted", member)
        return self.get(listing_id)

    def exchange_for(
        self, listing_id: int, minutes: int, day: dt.date, *, actor: str, note: str = ""
    ) -> Exchange:
        """The exchange that fulfils a taken-up listing, carrying ``listing=ID``."""
        listing = self.get(listing_id)
        if listing.taken_by is None:
            raise InputError(f"listing: #{listing_id} has not been taken up; accept an answer first")
        giver, receiver = (
            (listing.member, listing.taken_by)
            if listing.kind == "offer"
            else (listing.taken_by, listing.member)
        )
        return Exchange(
            (giver,), (receiver,), minutes, day, listing.category, actor, note, {REF: str(listing_id)}
        )

    # matching ---------------------------------------------------------------

    def match(
        self, listing_id: int, *, today: dt.date | None = None, limit: int = MATCH_LIMIT
    ) -> list[Match]:
        """Who may fit a listing, best first.

        For a request: open offers of the same kind of care and area, then neighbouring
        kinds and areas as the rules declare them, then members who have given that kind
        of care before. For an offer: the open requests it fits. Plugins may refuse a match
        (``refuse_matches``) or reorder them (``rank_matches``).
        """
        today = today or dt.date.today()
        listing = self.get(listing_id)
        members = self.ledger.members_by_handle()
        kinds = self._neighbours("neighbouring_kinds", listing.category)
        areas = self._neighbours("neighbouring_areas", listing.area) if listing.area else []
        # Tiers in SQL, so only the listings shown are read into Python.
        rows = stored.open_of_kinds(
            self.conn,
            kind="offer" if listing.kind == "request" else "request",
            categories=kinds,
            areas=areas,
            not_member=listing.member,
            category=listing.category,
            area=listing.area,
            today=today,
            limit=max(limit * 3, limit),
        )
        found: list[Match] = []
        seen: set[str] = set()
        for row in rows:
            member = members.get(row["member"])
            if member is None or not member.is_active:
                continue
            same_kind = row["category"] == listing.category
            same_area = not listing.area or not row["area"] or row["area"] == listing.area
            tier = (0 if same_kind else 2) + (0 if same_area else 1)
            found.append(
                Match(
                    listing.id,
                    row["member"],
                    row["id"],
                    tier,
                    TIERS[tier],
                    row["title"],
                    row["area"],
                    row["category"],
                )
            )
            seen.add(row["member"])
        found.sort(key=lambda m: m.tier)  # stable: newest first within a tier
        if listing.kind == "request":
            found += self._past_givers(listing, members, seen | {listing.member})
        matches = found[: max(limit * 3, limit)]
        refused = {p.index for p in self.refusals(listing, matches)}
        matches = [m for i, m in enumerate(matches) if i not in refused]
        return self._ranked(listing, matches)[:limit]

    def _past_givers(self, listing: Listing, members: Mapping[str, Member], skip: set[str]) -> list[Match]:
        given: dict[str, list[int]] = {}
        for givers, count, minutes in stored.recent_givers(self.conn, listing.category, HISTORY):
            for giver in givers.split():
                totals = given.setdefault(giver, [0, 0])
                totals[0] += count
                totals[1] += minutes
        out = []
        for handle, (count, _minutes) in sorted(given.items(), key=lambda kv: (-kv[1][0], kv[0])):
            member = members.get(handle)
            if handle in skip or member is None or not member.is_active:
                continue
            times = "once" if count == 1 else f"{count} times"
            out.append(
                Match(
                    listing.id,
                    handle,
                    None,
                    4,
                    f"has given {listing.category} {times}",
                    "",
                    member.area or "",
                    listing.category,
                )
            )
        return out

    def _direct_match(self, listing: Listing, member: str) -> Match:
        return Match(listing.id, member, None, 0, "answered", listing.title, listing.area, listing.category)

    def refusals(self, listing: Listing, matches: Sequence[Match]) -> list[Problem]:
        """Every enabled plugin's objections to ``matches`` (``refuse_matches``)."""
        if not matches:
            return []
        from timebank.pipeline import gather_problems

        return [
            p
            for p in gather_problems(
                self.ledger,
                self.ledger.rules,
                "refuse_matches",
                size=len(matches),
                listing=listing,
                matches=list(matches),
            )
            if p.severity == "error"
        ]

    def _ranked(self, listing: Listing, matches: list[Match]) -> list[Match]:
        if not matches:
            return matches
        answer = self.ledger.plugins.first(
            "rank_matches", self.ledger.rules, ledger=self.ledger, listing=listing, matches=list(matches)
        )
        if answer is None:
            return matches
        plugin, ranked = answer
        if sorted(ranked, key=repr) != sorted(matches, key=repr):
            raise PluginFailed(plugin, "rank_matches", "did not return the same matches, reordered")
        return list(ranked)

    # helpers ----------------------------------------------------------------

    def _owner(self, acting: Member, handle: str) -> Member:
        owner = self.ledger.member(handle)
        if owner.handle != acting.handle and not acting.is_coordinator:
            raise NotAllowed(f"member: only a co-ordinator posts for someone else ({handle})")
        if not owner.is_active:
            raise InputError(f"member: {handle!r} is retired")
        return owner

    def _may_manage(self, listing: Listing, actor: str) -> Member:
        acting = self.ledger.actor(actor)
        if acting.handle not in (listing.member, listing.posted_by) and not acting.is_coordinator:
            raise NotAllowed(
                f"listing: #{listing.id} is {listing.member}'s; only they or a co-ordinator may change it"
            )
        return acting

    def _check(self, listing: Listing, today: dt.date) -> None:
        if not listing.title:
            raise InputError("title: say in a few words what is offered or needed")
        check_text(listing.title, field="title", max_length=120)
        check_text(listing.description, field="description", max_length=2000)
        check_text(listing.area, field="area", max_length=100)
        check_text(listing.availability, field="when", max_length=200)
        categories = self.ledger.categories()
        if listing.category not in categories:
            raise InputError(
                f"kind: {listing.category!r} is not a kind of care here (kinds: {', '.join(categories)})"
            )
        if listing.expires_on < today:
            raise InputError(f"expires: {listing.expires_on} is already past")
        from timebank.pipeline import gather_problems

        problems = gather_problems(self.ledger, self.ledger.rules, "validate_listing", listing=listing)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise RulesRefused(errors)

    @staticmethod
    def _event(conn: Any, listing_id: int, by: str, action: str, detail: str = "") -> None:
        stored.insert_event(conn, listing_id, now_utc(), by, action, detail)


def _kind(kind: str) -> ListingKind:
    if kind not in KINDS:
        raise InputError(f"kind: {kind!r} is not offer or request")
    return kind  # type: ignore[return-value]


def _check_state(state: str) -> None:
    """A state to filter by: one of ``STATES``, ``taken`` (as stored) or ``all``."""
    if state not in stored.STATE_NAMES:
        raise InputError(f"state: {state!r} is not one of {', '.join(STATES)} or all")


def listing_problems(ledger: Ledger, exchanges: Iterable[Exchange]) -> list[Problem]:
    """Problems with exchanges that name a listing (``listing=N`` in their refs): the
    listing must exist, be open or taken up, and its member (and whoever took it up) must
    take part on the right side. Called in the one write path, so import, confirm and
    auto-accept are checked as a typed exchange is."""
    problems = []
    seen: set[int] = set()
    today = dt.date.today()
    for index, exchange in enumerate(exchanges):
        ref = exchange.refs.get(REF) if exchange.refs else None
        if ref is None:
            continue

        def refuse(message: str, index: int = index) -> None:
            problems.append(Problem("error", PLUGIN, REF, message, index))

        if not ref.isdigit() or len(ref) > 18:  # SQLite's integers are 64 bits
            refuse(f"{ref!r} is not a listing number")
            continue
        row = stored.listing(ledger.conn, int(ref))
        if row is None:
            refuse(f"there is no offer or request #{ref}")
            continue
        listing = Listing.from_row(row)
        state = listing.state(today)
        if listing.id in seen or listing.status in ("done", "withdrawn"):
            done = f" by entry #{listing.entry_id}" if listing.entry_id else ""
            refuse(f"{listing.kind} #{listing.id} is already {'done' if listing.id in seen else state}{done}")
            continue
        seen.add(listing.id)
        owner_side, other_side = (
            (exchange.givers, exchange.receivers)
            if listing.kind == "offer"
            else (exchange.receivers, exchange.givers)
        )
        role = "give" if listing.kind == "offer" else "receive"
        if listing.member not in owner_side:
            refuse(f"{listing.kind} #{listing.id} is {listing.member}'s, who must {role} in this exchange")
        elif listing.taken_by and listing.taken_by not in other_side:
            refuse(f"{listing.kind} #{listing.id} was taken up by {listing.taken_by}, who must take part")
    return problems


__all__ = [
    "FIELDS",
    "MATCH_FIELDS",
    "Answer",
    "Listing",
    "ListingEvent",
    "Listings",
    "Match",
    "STATES",
    "fts_query",
    "listing_problems",
]
