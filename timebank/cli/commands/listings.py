"""Offers and requests (``offer``, ``request``, ``match``), the weekly digest and reminders."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from timebank.cli.formats import emit, format_option
from timebank.cli.main import cli
from timebank.cli.options import ID, as_option, with_ledger
from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.listings import FIELDS, MATCH_FIELDS, STATES, Listing, Listings, Match


def _day(text: str | None, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None


def _line(item: Listing, today: dt.date) -> str:
    area = item.area or "-"
    return (
        f"#{item.id:<5} {item.kind:<7} {item.state(today):<9} {item.category:<14} {area:<10} "
        f"{item.member:<12} {item.title}  (when: {item.availability}; until {item.expires_on})"
    )


def _echo_listings(items: list[Listing], fmt: str, today: dt.date) -> None:
    def text() -> None:
        for item in items:
            click.echo(_line(item, today))
        if not items:
            click.echo("nothing found")

    emit(fmt, [item.to_dict(today) for item in items], text, columns=FIELDS)


def _emit_one(fmt: str, row: dict[str, Any], text: Any, columns: tuple[str, ...]) -> None:
    """One record: a JSON object (not a list of one), a CSV header and line, or ``text``."""
    if fmt == "json":
        click.echo(json.dumps(row, ensure_ascii=False, indent=1))
    else:
        emit(fmt, [row], text, columns=columns)


def _show_text(item: Listing, today: dt.date, answers: list[Any], history: list[Any]) -> None:
    click.echo(_line(item, today))
    if item.description:
        click.echo(f"  {item.description}")
    if item.taken_by:
        click.echo(f"  taken up by {item.taken_by}")
    for answer in answers:
        click.echo(f"  answered by {answer.member} at {answer.at}: {answer.note}".rstrip(": "))
    for event in history:
        click.echo(f"  {event.at} {event.by} {event.action} {event.detail}".rstrip())


def _listing_group(kind: str, helptext: str) -> click.Group:
    @cli.group(kind, help=helptext)
    def group() -> None:
        pass

    @group.command("add")
    @with_ledger
    @as_option
    @click.argument("title")
    @click.option("-k", "--kind", "category", required=True, help="Kind of care (one of the rules' kinds).")
    @click.option("-d", "--description", default="", help="More words: what, how often, anything to know.")
    @click.option("--area", default=None, help="A coarse area (default: the member's area).")
    @click.option("--when", "availability", default="flexible", help='Days and times, or "flexible".')
    @click.option("--expires", default=None, help="Last day it stays open (default: the rules' expiry).")
    @click.option("--for", "member", default=None, help="Post for this member (co-ordinators).")
    @format_option
    def add(
        ledger: Ledger,
        actor: str | None,
        title: str,
        category: str,
        description: str,
        area: str | None,
        availability: str,
        expires: str | None,
        member: str | None,
        fmt: str,
    ) -> None:
        item = Listings(ledger).post(
            kind,
            actor=actor or "",
            member=member,
            category=category,
            title=title,
            description=description,
            area=area,
            availability=availability,
            expires_on=_day(expires, "expires"),
        )
        _emit_one(
            fmt,
            item.to_dict(dt.date.today()),
            lambda: click.echo(f"{kind} #{item.id} posted for {item.member}; open until {item.expires_on}"),
            FIELDS,
        )

    add.__doc__ = f"Post {'an offer' if kind == 'offer' else 'a request'}: TITLE in a few words."

    @group.command("list")
    @with_ledger
    @click.option("-k", "--kind", "category", default=None, help="Only this kind of care.")
    @click.option("--area", default=None, help="Only this area.")
    @click.option(
        "--state",
        type=click.Choice([*STATES, "all"]),
        default="open",
        show_default=True,
        help="Only listings in this state.",
    )
    @click.option("--member", default=None, help="Only this member's.")
    @click.option("-s", "--search", "text", default=None, help="Words to search for (full text).")
    @format_option
    def list_(
        ledger: Ledger,
        category: str | None,
        area: str | None,
        state: str,
        member: str | None,
        text: str | None,
        fmt: str,
    ) -> None:
        today = dt.date.today()
        items = Listings(ledger).board(
            kind=kind, state=state, category=category, area=area, member=member, text=text, today=today
        )
        _echo_listings(items, fmt, today)

    list_.__doc__ = f"List {kind}s: open ones unless --state says otherwise; search with -s."

    @group.command("show")
    @with_ledger
    @click.argument("listing_id", type=ID)
    @format_option
    def show(ledger: Ledger, listing_id: int, fmt: str) -> None:
        """One listing with its answers and its history (in CSV: the listing, and who answered)."""
        board = Listings(ledger)
        item = board.get(listing_id)
        today = dt.date.today()
        answers, history = board.answers(listing_id), board.history(listing_id)
        data = item.to_dict(today)
        if fmt == "json":
            data["answers"] = [_as_dict(a) for a in answers]
            data["history"] = [_as_dict(e) for e in history]
        else:
            data["answers"] = [a.member for a in answers]
        _emit_one(fmt, data, lambda: _show_text(item, today, answers, history), (*FIELDS, "answers"))

    @group.command("change")
    @with_ledger
    @as_option
    @click.argument("listing_id", type=ID)
    @click.option("--title", default=None)
    @click.option("-d", "--description", default=None)
    @click.option("-k", "--kind", "category", default=None, help="Kind of care.")
    @click.option("--area", default=None)
    @click.option("--when", "availability", default=None)
    @click.option("--expires", default=None, help="New last day (YYYY-MM-DD), to renew it.")
    def change(
        ledger: Ledger,
        actor: str | None,
        listing_id: int,
        title: str | None,
        description: str | None,
        category: str | None,
        area: str | None,
        availability: str | None,
        expires: str | None,
    ) -> None:
        """Change an open (or expired) listing; --expires renews it. Kept in its history."""
        _kind_of(ledger, listing_id, kind)
        item = Listings(ledger).change(
            listing_id,
            actor=actor or "",
            title=title.strip() if title is not None else None,
            description=description,
            category=category,
            area=area,
            availability=availability,
            expires_on=_day(expires, "expires"),
        )
        click.echo(f"{kind} #{item.id} changed; open until {item.expires_on}")

    @group.command("answer")
    @with_ledger
    @as_option
    @click.argument("listing_id", type=ID)
    @click.option("-n", "--note", default="", help="A word to the member.")
    def answer(ledger: Ledger, actor: str | None, listing_id: int, note: str) -> None:
        """Answer a listing: say you can help (or would like the offer)."""
        Listings(ledger).answer(listing_id, actor=actor or "", note=note)
        click.echo(f"answered #{listing_id}; the member or a co-ordinator will accept")

    @group.command("accept")
    @with_ledger
    @as_option
    @click.argument("listing_id", type=ID)
    @click.argument("member")
    def accept(ledger: Ledger, actor: str | None, listing_id: int, member: str) -> None:
        """Accept MEMBER's answer: the listing is taken up. Log the hours with --ref listing=ID."""
        item = Listings(ledger).accept(listing_id, member, actor=actor or "")
        click.echo(
            f"#{item.id} taken up by {member}; when the help is given, log it with --ref listing={item.id}"
        )

    return group


def _as_dict(record: Any) -> dict[str, Any]:
    import attrs

    return attrs.asdict(record)


offer = _listing_group("offer", "Offers: what members can give.")
request = _listing_group("request", "Requests: what members need.")


@offer.command("withdraw")
@with_ledger
@as_option
@click.argument("listing_id", type=ID)
@click.option("--reason", default="", help="Why (kept in the history).")
def offer_withdraw(ledger: Ledger, actor: str | None, listing_id: int, reason: str) -> None:
    """Withdraw an offer: it leaves the board, its history stays."""
    _kind_of(ledger, listing_id, "offer")
    Listings(ledger).withdraw(listing_id, actor=actor or "", reason=reason)
    click.echo(f"offer #{listing_id} withdrawn")


@request.command("close")
@with_ledger
@as_option
@click.argument("listing_id", type=ID)
@click.option("--done", is_flag=True, help="The help came another way: mark it done, not withdrawn.")
@click.option("--reason", default="", help="Why (kept in the history).")
def request_close(ledger: Ledger, actor: str | None, listing_id: int, done: bool, reason: str) -> None:
    """Close a request: withdrawn (no longer needed) or, with --done, done."""
    _kind_of(ledger, listing_id, "request")
    item = Listings(ledger).withdraw(listing_id, actor=actor or "", reason=reason, done=done)
    click.echo(f"request #{listing_id} {item.state(dt.date.today())}")


@request.command("unanswered")
@with_ledger
@click.option("--days", type=click.IntRange(0, 36_500), default=7, show_default=True)
@format_option
def request_unanswered(ledger: Ledger, days: int, fmt: str) -> None:
    """Open requests nobody has answered for more than DAYS days (a co-ordinator's report)."""
    today = dt.date.today()
    found = Listings(ledger).unanswered(days, today=today)

    def text() -> None:
        for item, waited in found:
            click.echo(f"{waited:>4} days  {_line(item, today)}")
        if not found:
            click.echo(f"no request has waited more than {days} days unanswered")

    rows = [{**item.to_dict(today), "days_waiting": waited} for item, waited in found]
    emit(fmt, rows, text, columns=(*FIELDS, "days_waiting"))


def _kind_of(ledger: Ledger, listing_id: int, kind: str) -> None:
    item = Listings(ledger).get(listing_id)
    if item.kind != kind:
        raise InputError(f"listing: #{listing_id} is {'an' if item.kind == 'offer' else 'a'} {item.kind}")


@cli.command("match")
@with_ledger
@click.argument("listing_id", type=ID)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@format_option
def match(ledger: Ledger, listing_id: int, limit: int, fmt: str) -> None:
    """Who may fit a request (or which requests fit an offer), best first."""
    matches: list[Match] = Listings(ledger).match(listing_id, limit=limit)

    def text() -> None:
        for m in matches:
            via = f"#{m.other} {m.title}" if m.other else ""
            click.echo(f"{m.member:<12} {m.category:<14} {m.area or '-':<10} {m.reason}  {via}".rstrip())
        if not matches:
            click.echo("no matches yet")

    emit(fmt, [m.to_dict() for m in matches], text, columns=MATCH_FIELDS)


# digest -----------------------------------------------------------------------


@cli.command("digest")
@with_ledger
@as_option
@click.option("--member", "members", multiple=True, help="This member's digest (repeat for more).")
@click.option("--all-members", is_flag=True, help="Every active member's digest, one page each.")
@click.option("--html", "as_html", is_flag=True, help="Print-ready HTML instead of plain text.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file (default: stdout)."
)
@click.option("--date", "day", default=None, help="Last day of the week (default: today).")
@click.option("--send", is_flag=True, help="E-mail each member who agreed (SMTP settings: docs/listings.md).")
@click.option("--smtp-config", type=click.Path(dir_okay=False, path_type=Path), help="SMTP settings file.")
def digest(
    ledger: Ledger,
    actor: str | None,
    members: tuple[str, ...],
    all_members: bool,
    as_html: bool,
    out: Path | None,
    day: str | None,
    send: bool,
    smtp_config: Path | None,
) -> None:
    """The week's new offers and requests, each member's matches and claims waiting.

    Without --member or --all-members, the co-op's digest (the board). With --send, each
    member who gave an e-mail address and agreed (timebank digest-email) is sent theirs.
    """
    from timebank import digest as digests

    today = _day(day, "date") or dt.date.today()
    if send:
        _send_digests(ledger, actor, members, today, smtp_config)
        return
    handles: list[str] | None = list(members) or None
    if all_members:
        handles = [m.handle for m in ledger.members(include_retired=False)]
    built = digests.build_digest(ledger, today=today, members=handles, actor=actor)
    text = digests.render_html(built) if as_html else digests.render_text(built)
    if out is None:
        click.echo(text, nl=False)
        return
    from timebank.storage.outputs import output_text

    # members' names, needs and claims: private to the owner, like the ledger; never over
    # the ledger, its files or anyone's history; written whole or not at all
    with output_text(out, ledger=ledger.path, kind="csv") as stream:
        stream.write(text)
    click.echo(f"digest written to {out}", err=True)


def _send_digests(
    ledger: Ledger, actor: str | None, members: tuple[str, ...], today: dt.date, smtp_config: Path | None
) -> None:
    from timebank import digest as digests
    from timebank import mail

    settings = mail.smtp_settings(smtp_config)
    agreed = digests.recipients(ledger)
    active = {m.handle for m in ledger.members(include_retired=False)}
    handles = [h for h in (members or sorted(agreed)) if h in agreed and h in active]
    skipped = [h for h in members if h not in agreed]
    built = digests.build_digest(ledger, today=today, members=handles, actor=actor)
    subject = f"{built.coop}: your weekly digest, week to {today}"
    items = [
        mail.Outgoing(
            part.member.handle,
            agreed[part.member.handle],
            subject,
            digests.member_text(built, part),
            digests.member_html(built, part),
        )
        for part in built.members
    ]
    _report(mail.send(ledger, settings, items), skipped)


def _report(report: Any, skipped: list[str]) -> None:
    for item in report.sent:
        click.echo(f"sent to {item.member} <{item.email}>")
    for handle in skipped:
        click.echo(f"not sent to {handle}: no e-mail address agreed", err=True)
    for item, reason in report.refused:
        click.echo(f"not sent to {item.member} <{item.email}>: the server refused it ({reason})", err=True)
    for item in report.unsent:
        click.echo(f"not sent to {item.member} <{item.email}>: the connection was lost first", err=True)
    click.echo(f"{len(report.sent)} sent, {len(report.refused) + len(report.unsent)} not sent")
    if report.refused or report.unsent:
        sys.exit(1)


@cli.command("remind")
@with_ledger
@click.option(
    "--days", type=click.IntRange(0, 36_500), default=7, show_default=True, help="Claims older than this."
)
@click.option("--send", is_flag=True, help="E-mail the reminders to members who agreed.")
@click.option("--smtp-config", type=click.Path(dir_okay=False, path_type=Path), help="SMTP settings file.")
def remind(ledger: Ledger, days: int, send: bool, smtp_config: Path | None) -> None:
    """Remind members of claims waiting for their confirmation for more than DAYS days."""
    from timebank import digest as digests
    from timebank import mail

    waiting = digests.reminders(ledger, days)
    coop = ledger.rules.coop["name"]
    if not send:
        for handle, claims in sorted(waiting.items()):
            click.echo(digests.reminder_text(ledger, handle, claims))
        if not waiting:
            click.echo(f"no claim has waited more than {days} days")
        return
    settings = mail.smtp_settings(smtp_config)
    agreed = digests.recipients(ledger)
    items = [
        mail.Outgoing(
            handle,
            agreed[handle],
            f"{coop}: claims waiting for you to confirm",
            digests.reminder_text(ledger, handle, claims),
            kind="reminder",
        )
        for handle, claims in sorted(waiting.items())
        if handle in agreed
    ]
    _report(mail.send(ledger, settings, items), [h for h in sorted(waiting) if h not in agreed])


@cli.command("digest-email")
@with_ledger
@as_option
@click.argument("member")
@click.argument("email", required=False)
@click.option("--stop", is_flag=True, help="The member no longer wants e-mail: forget the address.")
def digest_email(ledger: Ledger, actor: str | None, member: str, email: str | None, stop: bool) -> None:
    """Record that MEMBER agreed to get the digest and reminders at EMAIL (or --stop)."""
    from timebank import digest as digests

    if not stop and not email:
        raise InputError("email: give the address the member agreed to, or --stop")
    digests.set_recipient(ledger, member, None if stop else email, actor=actor or "")
    click.echo(f"{member} will {'no longer ' if stop else ''}get the digest by e-mail")
