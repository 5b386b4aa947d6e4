"""The weekly digest: the week's new offers and requests, one's own matches, and one's claims
waiting for confirmation, as plain text and as print-ready HTML.

A co-ordinator prints it for members without a computer; ``timebank digest --send`` e-mails
it (``timebank.mail``) to members who gave an address and agreed. Matching for thousands of
members is done in memory from one read of the open listings, so a digest for 10,000
members does not run 10,000 queries per member.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

from timebank.errors import InputError, NotAllowed
from timebank.listings import TIERS, Listing, Listings, Match
from timebank.models import Claim, Member
from timebank.storage import digests as stored
from timebank.units import check_text, format_minutes

if TYPE_CHECKING:
    from timebank.ledger import Ledger

DIGEST_MATCHES = 5
NEW_SHOWN = 15  # a member's digest shows this many of the week's new offers (and requests)


@attrs.frozen
class MemberDigest:
    """One member's part: their open listings with who may fit, and claims awaiting them."""

    member: Member
    own: tuple[tuple[Listing, tuple[Match, ...]], ...]
    waiting: tuple[Claim, ...]
    new_offers: tuple[Listing, ...] = ()
    new_requests: tuple[Listing, ...] = ()
    new_totals: tuple[int, int] = (0, 0)  # the week's new requests and offers, not their own


@attrs.frozen
class Digest:
    """The week's board for the whole co-op, and each member's own part (if asked)."""

    coop: str
    first_day: dt.date
    last_day: dt.date
    new_offers: tuple[Listing, ...]
    new_requests: tuple[Listing, ...]
    members: tuple[MemberDigest, ...]
    names: dict[str, str] = attrs.field(factory=dict, hash=False)
    lines: dict[int, str] = attrs.field(factory=dict, eq=False, hash=False)  # rendered once each

    def name(self, handle: str) -> str:
        return self.names.get(handle, handle)


def build_digest(
    ledger: Ledger,
    *,
    today: dt.date | None = None,
    members: Sequence[str] | None = None,
    actor: str | None = None,
) -> Digest:
    """The digest for the week ending ``today``: for the co-op (``members`` None), or for
    each named member. A member acting may ask only for their own."""
    today = today or dt.date.today()
    first = today - dt.timedelta(days=6)
    board = Listings(ledger)
    directory = ledger.members_by_handle()
    if actor:
        acting = ledger.actor(actor)
        if not acting.is_coordinator and members and set(members) - {acting.handle}:
            raise NotAllowed(
                f"digest: {acting.handle} may see only their own digest (--member {acting.handle})"
            )
    wanted: list[Member] = []
    for handle in members or ():
        member = directory.get(handle)
        if member is None:
            raise InputError(f"member: no member with handle {handle!r}")
        wanted.append(member)
    open_listings = board.board(state="open", today=today)
    new = [item for item in open_listings if item.posted_on >= first]
    parts: list[MemberDigest] = []
    if wanted:
        matcher = _Matcher(board, open_listings, directory, today)
        by_member: dict[str, list[Listing]] = defaultdict(list)
        for item in open_listings:
            by_member[item.member].append(item)
        taken = board.board(state="taken up", today=today)
        for item in taken:
            by_member[item.member].append(item)
        waiting: dict[str, list[Claim]] = defaultdict(list)
        for claim in ledger.claims():
            for handle in claim.awaiting:
                waiting[handle].append(claim)
        news = _News(new)
        for member in wanted:
            own = tuple(
                (item, tuple(matcher.matches(item)) if item.status == "open" else ())
                for item in by_member.get(member.handle, ())
            )
            parts.append(
                MemberDigest(
                    member,
                    own,
                    tuple(waiting.get(member.handle, ())),
                    news.nearest("offer", member),
                    news.nearest("request", member),
                    (news.others("request", member), news.others("offer", member)),
                )
            )
    return Digest(
        coop=ledger.rules.coop["name"],
        first_day=first,
        last_day=today,
        new_offers=tuple(item for item in new if item.kind == "offer"),
        new_requests=tuple(item for item in new if item.kind == "request"),
        members=tuple(parts),
        names={m.handle: m.name for m in directory.values()},
    )


class _News:
    """The week's new listings indexed by kind and area, to pick each member's share fast."""

    def __init__(self, new: Sequence[Listing]):
        self.by_kind: dict[str, list[Listing]] = defaultdict(list)
        self.by_area: dict[tuple[str, str], list[Listing]] = defaultdict(list)
        self.own: dict[tuple[str, str], int] = defaultdict(int)
        for item in new:  # newest first
            self.by_kind[item.kind].append(item)
            self.by_area[(item.kind, item.area)].append(item)
            self.own[(item.kind, item.member)] += 1

    def nearest(self, kind: str, member: Member) -> tuple[Listing, ...]:
        """The new listings of ``kind`` a member's page shows: not their own, those in their
        area (or with none) first, newest first, at most ``NEW_SHOWN``; the co-op's digest
        shows them all."""
        if member.area:
            pool = self.by_area.get((kind, member.area), []) + self.by_area.get((kind, ""), [])
            pool.sort(key=lambda item: -item.id)
        else:
            pool = self.by_kind.get(kind, [])
        shown: list[Listing] = []
        for source in (pool, self.by_kind.get(kind, [])):
            for item in source:
                if len(shown) >= NEW_SHOWN:
                    return tuple(shown)
                if item.member != member.handle and item not in shown:
                    shown.append(item)
        return tuple(shown)

    def others(self, kind: str, member: Member) -> int:
        return len(self.by_kind.get(kind, [])) - self.own.get((kind, member.handle), 0)


class _Matcher:
    """Matches for many listings from one read of the board, tiered as ``Listings.match``
    does for open listings (without the past-givers tier); plugins still refuse and rank
    each listing's matches. Candidates are indexed by kind, care and area, newest first, and
    each listing takes only as many as the digest shows, so 10,000 members cost seconds."""

    def __init__(self, board: Listings, open_listings: Iterable[Listing], directory: dict, today: dt.date):
        self.board = board
        self.by_area: dict[tuple[str, str, str], list[Listing]] = defaultdict(list)
        self.by_care: dict[tuple[str, str], list[Listing]] = defaultdict(list)
        for item in open_listings:  # newest first, as the board reads them
            owner = directory.get(item.member)
            if owner is not None and owner.is_active:
                self.by_area[(item.kind, item.category, item.area)].append(item)
                self.by_care[(item.kind, item.category)].append(item)
        self.refuses = board.ledger.plugins.implements("refuse_matches", board.ledger.rules)
        self.ranks = board.ledger.plugins.implements("rank_matches", board.ledger.rules)
        self.want = DIGEST_MATCHES * 3

    def _near(self, other: str, kind: str, areas: list[str] | None) -> list[Listing]:
        if areas is None:
            return self.by_care.get((other, kind), [])
        found = [item for area in (*areas, "") for item in self.by_area.get((other, kind, area), ())]
        return sorted(found, key=lambda item: -item.id) if len(areas) > 0 else found

    def matches(self, listing: Listing) -> list[Match]:
        other = "offer" if listing.kind == "request" else "request"
        kinds = self.board._neighbours("neighbouring_kinds", listing.category)
        near_kinds = [k for k in kinds if k != listing.category]
        if listing.area:
            near_areas = [
                a for a in self.board._neighbours("neighbouring_areas", listing.area) if a != listing.area
            ]
            tiers = [
                ([listing.category], [listing.area]),
                ([listing.category], near_areas),
                (near_kinds, [listing.area]),
                (near_kinds, near_areas),
            ]
        else:
            tiers = [([listing.category], None), ([], None), (near_kinds, None), ([], None)]
        found: list[Match] = []
        for tier, (care, areas) in enumerate(tiers):
            if areas is not None and not areas:
                continue
            for kind in care:
                candidates = self._near(other, kind, areas)
                if areas is not None and tier in (1, 3):  # listings with no area are "same area"
                    candidates = [item for item in candidates if item.area]
                for item in candidates:
                    if item.member == listing.member:
                        continue
                    found.append(
                        Match(
                            listing.id, item.member, item.id, tier, TIERS[tier], item.title, item.area, kind
                        )
                    )
                    if len(found) >= self.want:
                        break
            if len(found) >= self.want:
                break
        found = found[: self.want]
        if self.refuses and found:
            refused = {p.index for p in self.board.refusals(listing, found)}
            found = [m for i, m in enumerate(found) if i not in refused]
        if self.ranks and found:
            found = self.board._ranked(listing, found)
        return found[:DIGEST_MATCHES]


# rendering ------------------------------------------------------------------


def _line(digest: Digest, item: Listing) -> str:
    line = digest.lines.get(item.id)
    if line is None:
        area = f", {item.area}" if item.area else ""
        who = digest.name(item.member)
        line = f"#{item.id} {item.category}{area}: {item.title} ({who}; {item.availability})"
        digest.lines[item.id] = line
    return line


def _claim_line(digest: Digest, claim: Claim) -> str:
    e = claim.exchange
    givers = ", ".join(digest.name(h) for h in e.givers)
    receivers = ", ".join(digest.name(h) for h in e.receivers)
    return (
        f"claim #{claim.id}, {e.day}: {givers} gave {receivers} {format_minutes(e.minutes)} of {e.category}"
    )


def _board_text(digest: Digest, part: MemberDigest | None = None) -> list[str]:
    lines = []
    for title, items, total in _sections(digest, part):
        more = f", {len(items)} shown, near you first" if len(items) < total else ""
        lines.append(f"{title} this week ({total}{more})")
        lines += [f"  {_line(digest, item)}" for item in items] or ["  none"]
        lines.append("")
    return lines


def _sections(digest: Digest, part: MemberDigest | None) -> list[tuple[str, Sequence[Listing], int]]:
    if part is None:
        return [
            ("New requests", digest.new_requests, len(digest.new_requests)),
            ("New offers", digest.new_offers, len(digest.new_offers)),
        ]
    return [
        ("New requests", part.new_requests, part.new_totals[0]),
        ("New offers", part.new_offers, part.new_totals[1]),
    ]


def member_text(digest: Digest, part: MemberDigest) -> str:
    """One member's digest as plain text (the e-mail body, or a page to print)."""
    lines = [
        f"{digest.coop}: weekly digest for {part.member.name}",
        f"Week {digest.first_day} to {digest.last_day}",
        "",
    ]
    lines += _board_text(digest, part)
    lines.append("Your offers and requests")
    if not part.own:
        lines.append("  none open")
    for item, matches in part.own:
        state = "" if item.status == "open" else f" [taken up by {digest.name(item.taken_by or '')}]"
        lines.append(f"  {item.kind} {_line(digest, item)}{state}")
        for match in matches:
            via = f"{match.title} (#{match.other})" if match.other else match.reason
            lines.append(f"    may fit: {digest.name(match.member)}: {via}; {match.reason}")
    lines.append("")
    lines.append("Claims waiting for you to confirm")
    lines += [f"  {_claim_line(digest, claim)}" for claim in part.waiting] or ["  none"]
    return "\n".join(lines) + "\n"


def coop_text(digest: Digest) -> str:
    """The co-op's digest: the week's new offers and requests."""
    lines = [f"{digest.coop}: weekly digest", f"Week {digest.first_day} to {digest.last_day}", ""]
    return "\n".join(lines + _board_text(digest)).rstrip() + "\n"


def render_text(digest: Digest) -> str:
    if not digest.members:
        return coop_text(digest)
    return "\n\f\n".join(member_text(digest, part) for part in digest.members)


_CSS = """
body { font-family: Georgia, serif; font-size: 13pt; line-height: 1.4; margin: 2em; color: #000; }
h1 { font-size: 18pt; margin-bottom: 0; } h2 { font-size: 14pt; border-bottom: 1px solid #000; }
.week { margin-top: 0; } ul { padding-left: 1.2em; } li { margin-bottom: 0.3em; }
section.member { page-break-after: always; break-after: page; }
section.member:last-child { page-break-after: auto; break-after: auto; }
@media print { body { margin: 0; } @page { size: A4; margin: 18mm; } a { color: #000; } }
"""


def _html_list(items: Iterable[str]) -> str:
    rows = [f"<li>{html.escape(text)}</li>" for text in items]
    return "<ul>" + ("".join(rows) or "<li>none</li>") + "</ul>"


def _html_part(digest: Digest, part: MemberDigest | None) -> str:
    e = html.escape
    title = f"Weekly digest for {part.member.name}" if part else "Weekly digest"
    out = [
        f"<h1>{e(digest.coop)}: {e(title)}</h1>",
        f"<p class='week'>Week {digest.first_day} to {digest.last_day}</p>",
    ]
    for heading, items, total in _sections(digest, part):
        more = f", {len(items)} shown, near you first" if len(items) < total else ""
        out.append(f"<h2>{heading} this week ({total}{e(more)})</h2>")
        out.append(_html_list(_line(digest, item) for item in items))
    if part is not None:
        out.append("<h2>Your offers and requests</h2><ul>")
        if not part.own:
            out.append("<li>none open</li>")
        for item, matches in part.own:
            out.append(f"<li>{e(item.kind)} {e(_line(digest, item))}")
            if matches:
                out.append(
                    _html_list(
                        f"may fit: {digest.name(m.member)}: "
                        f"{f'{m.title} (#{m.other})' if m.other else m.reason}; {m.reason}"
                        for m in matches
                    )
                )
            out.append("</li>")
        out.append("</ul><h2>Claims waiting for you to confirm</h2>")
        out.append(_html_list(_claim_line(digest, claim) for claim in part.waiting))
    return "\n".join(out)


def render_html(digest: Digest) -> str:
    """Print-ready HTML: one page per member, A4, large serif type; all text escaped."""
    sections = [
        f"<section class='member'>{_html_part(digest, part)}</section>" for part in digest.members
    ] or [f"<section>{_html_part(digest, None)}</section>"]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(digest.coop)}: weekly digest {digest.last_day}</title>"
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n"
    )


def member_html(digest: Digest, part: MemberDigest) -> str:
    return render_html(attrs.evolve(digest, members=(part,)))


def reminders(ledger: Ledger, days: int, *, today: dt.date | None = None) -> dict[str, list[Claim]]:
    """Claims waiting more than ``days`` days, by the member they wait for."""
    today = today or dt.date.today()
    cutoff = (today - dt.timedelta(days=days)).isoformat()
    out: dict[str, list[Claim]] = defaultdict(list)
    for claim in ledger.claims():
        if claim.created_at[:10] < cutoff:
            for handle in claim.awaiting:
                out[handle].append(claim)
    return dict(out)


def reminder_text(ledger: Ledger, handle: str, claims: Sequence[Claim]) -> str:
    names = {m.handle: m.name for m in ledger.members()}
    digest = Digest(ledger.rules.coop["name"], dt.date.today(), dt.date.today(), (), (), (), names)
    lines = [f"{digest.coop}: claims waiting for {names.get(handle, handle)} to confirm", ""]
    lines += [f"  {_claim_line(digest, claim)} (recorded {claim.created_at[:10]})" for claim in claims]
    lines += ["", "Please confirm or decline each with the co-ordinator or in timebank."]
    return "\n".join(lines) + "\n"


# recipients -----------------------------------------------------------------


def set_recipient(ledger: Ledger, handle: str, email: str | None, *, actor: str) -> None:
    """Record that ``handle`` agreed to receive the digest at ``email`` (None: stopped).

    Only the member or a co-ordinator may; the address stays in the ledger, is never
    exported with members nor published.
    """
    acting = ledger.actor(actor)
    ledger.member(handle)
    if acting.handle != handle and not acting.is_coordinator:
        raise NotAllowed(f"email: only {handle} or a co-ordinator may change {handle}'s e-mail consent")
    from timebank.storage.store import now_utc

    with ledger.transaction() as conn:
        if email is None:
            stored.forget_recipient(conn, handle)
            return
        email = email.strip()
        check_text(email, field="email", max_length=254)  # no escapes for a terminal or a header
        if "@" not in email or any(c.isspace() or c in "<>,;\"'" for c in email) or len(email) > 254:
            raise InputError(f"email: {email!r} is not an e-mail address")
        stored.set_recipient(conn, handle, email, now_utc(), acting.handle)


def recipients(ledger: Ledger) -> dict[str, str]:
    """Members who agreed to e-mail, with their address."""
    return stored.recipients(ledger.conn)
