"""Log hours: the first screen, and where members spend their time.

Giver, receivers (several for a group session), date, duration, kind of care and note,
and any more fields the enabled plugins ask for (``exchange_fields``: an A+B social
co-op's sector), kept in the exchange's references. As you type, the credits the
exchange would post are previewed (nothing written). Enter saves; a rule's error shows
beside the field it concerns and nothing is written; a warning asks for one
confirmation. After saving the form is ready for the next entry and the entry shows in
today's list.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import DataTable, Input, Label, Select, Static

from timebank.errors import InputError, NotAllowed, NotFound, PluginFailed, RulesRefused
from timebank.models import Claim, Exchange, ExchangeField
from timebank.tui.screens.base import LedgerScreen
from timebank.tui.screens.modals import ConfirmModal
from timebank.tui.widgets.member_input import MemberSuggester, matches_text, resolve_handles
from timebank.tui.widgets.plain import plain, plain_row
from timebank.units import format_minutes, parse_day, parse_duration

FIELDS = ("giver", "receiver", "date", "duration", "category", "note")
REQUIRED = (("giver", "giver"), ("receiver", "receivers"), ("duration", "duration"))
FIELD_OF_PROBLEM = {
    "giver": "giver",
    "receiver": "receiver",
    "date": "date",
    "duration": "duration",
    "category": "category",
    "note": "note",
    "from": "giver",
    "to": "receiver",
}


def ref_id(field: ExchangeField) -> str:
    """The input's id of a plugin's field (its name, kept apart from the form's own)."""
    return f"ref-{field.name}"


class LogScreen(LedgerScreen):
    """The log-hours form, its live preview and today's entries."""

    BINDINGS = [("ctrl+s", "save", "Save"), ("escape", "clear", "Clear")]

    def __init__(self) -> None:
        super().__init__()
        self.extra: list[ExchangeField] = []

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field of the form, the plugins' last."""
        return FIELDS + tuple(ref_id(f) for f in self.extra)

    def compose_body(self) -> ComposeResult:
        suggester = MemberSuggester(self.ledger)
        categories = self.ledger.categories()
        self.extra = self.ledger.exchange_fields()
        with Vertical(id="log-form"):
            with Grid(id="fields"):
                yield Label("Giver", classes="field-label")
                yield Input(placeholder="handle or name", id="giver", suggester=suggester)
                yield Static("", id="giver-error", classes="field-error", markup=False)
                yield Label("Receivers", classes="field-label")
                yield Input(placeholder="one, or several for a group", id="receiver", suggester=suggester)
                yield Static("", id="receiver-error", classes="field-error", markup=False)
                yield Label("Date", classes="field-label", id="date-label")
                yield Input(value="today", placeholder="today, saturday, 21/11, 21 Nov", id="date")
                yield Static("", id="date-error", classes="field-error", markup=False)
                yield Label("Duration", classes="field-label")
                yield Input(placeholder="1.5, 1h30, 90m", id="duration")
                yield Static("", id="duration-error", classes="field-error", markup=False)
                yield Label("Kind", classes="field-label", id="category-label")
                yield (
                    Select(
                        [(plain(c), c) for c in categories],
                        id="category",
                        allow_blank=False,
                        value=categories[0],
                    )
                    if categories
                    else Select([], id="category")
                )
                yield Static("", id="category-error", classes="field-error", markup=False)
                yield Label("Note", classes="field-label")
                yield Input(placeholder="optional", id="note")
                yield Static("", id="note-error", classes="field-error", markup=False)
                for field in self.extra:
                    yield Label(plain(field.label), classes="field-label")
                    placeholder = field.hint or " or ".join(field.choices) or "optional"
                    yield Input(placeholder=placeholder, id=ref_id(field))
                    yield Static("", id=f"{ref_id(field)}-error", classes="field-error", markup=False)
            yield Static("", id="matches", markup=False)
            yield Static("Preview: fill in giver, receivers and duration", id="preview", markup=False)
            yield Static("", id="saved", classes="message", markup=False)
        yield Label("Today", id="today-title")
        yield DataTable(id="today", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#today", DataTable)
        table.add_columns("#", "date", "giver", "receivers", "time", "kind", "state")
        self.query_one("#giver", Input).focus()
        if self.actor is not None and not self.actor.is_coordinator:
            self.query_one("#giver", Input).value = self.actor.handle

    def refresh_data(self) -> None:
        table = self.query_one("#today", DataTable)
        table.clear()
        sight = self.sight  # a member sees the entries that concern them
        day_entries = self.ledger.entries_of_day(self.today, or_after=self.tb.session_start)
        entries = [e for e in day_entries if e.kind == "service" and sight.entry(e)]
        reversed_ids = set(self.ledger.reversed_by([e.id for e in entries]))
        for entry in entries:
            table.add_row(
                *plain_row(
                    entry.id,
                    f"{entry.day:%a %d %b}",
                    ",".join(entry.givers),
                    ",".join(entry.receivers),
                    format_minutes(entry.minutes),
                    entry.category,
                    "reversed" if entry.id in reversed_ids else "saved",
                )
            )
        for claim in self.ledger.claims():
            if not sight.claim(claim):
                continue
            if claim.exchange.day == self.today or claim.created_at[:10] == self.today.isoformat():
                e = claim.exchange
                table.add_row(
                    *plain_row(
                        f"c{claim.id}",
                        f"{e.day:%a %d %b}",
                        ",".join(e.givers),
                        ",".join(e.receivers),
                        format_minutes(e.minutes),
                        e.category,
                        "to confirm",
                    )
                )
        if not table.row_count:
            self.query_one("#today-title", Label).update("Today: nothing recorded yet")
        else:
            self.query_one("#today-title", Label).update("Today")

    # reading the form -------------------------------------------------------

    def _value(self, field: str) -> str:
        widget = self.query_one(f"#{field}")
        return str(widget.value) if not isinstance(widget, Select) or widget.value != Select.BLANK else ""

    def read_exchange(self) -> Exchange:
        """The exchange the form describes; ``InputError`` names the first bad field."""
        if self.actor is None:
            raise NotAllowed("giver: choose who is recording first (F8)")
        return Exchange(
            givers=resolve_handles(self.ledger, self._value("giver"), "giver"),
            receivers=resolve_handles(self.ledger, self._value("receiver"), "receiver"),
            minutes=parse_duration(self._value("duration")),
            day=parse_day(self._value("date"), today=self.today),
            category=self._value("category"),
            recorded_by=self.actor.handle,
            note=self._value("note"),
            refs=self.read_refs(),
        )

    def read_refs(self) -> dict[str, str]:
        """The plugins' fields as references; ``InputError`` names the first that will not do."""
        refs = {}
        for field in self.extra:
            value = self._value(ref_id(field)).strip()
            problem = field.problem(value)
            if problem:
                raise InputError(f"{field.name}: {problem}")
            if value:
                refs[field.name] = value
        return refs

    def show_errors(self, problems: list[tuple[str, str]]) -> None:
        """Put each message beside its field; clear the others."""
        by_field: dict[str, list[str]] = {}
        fields = self.fields
        for field, message in problems:
            shown = field if field in fields else f"ref-{field}" if f"ref-{field}" in fields else None
            by_field.setdefault(FIELD_OF_PROBLEM.get(field, shown or "giver"), []).append(message)
        for field in fields:
            label = self.query_one(f"#{field}-error", Static)
            label.update("; ".join(by_field.get(field, [])))
            self.query_one(f"#{field}").set_class(field in by_field, "invalid")
        if problems:
            self.query_one("#saved", Static).update("")  # an earlier "Entry #N saved" is stale now

    # live preview -------------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    def update_preview(self, event: Input.Changed | Select.Changed) -> None:
        if isinstance(event, Input.Changed) and event.input.id in ("giver", "receiver"):
            self.query_one("#matches", Static).update(matches_text(self.ledger, event.value))
        if isinstance(event, Input.Changed) and event.input.id in ("date", "category"):
            self.carried(event.input.id, False)
        if isinstance(event, Select.Changed) and event.select.id == "category":
            self.carried("category", False)
        preview = self.query_one("#preview", Static)
        missing = [name for field, name in REQUIRED if not self._value(field).strip()]
        if missing:
            preview.update(f"Preview: fill in {', '.join(missing)}")
            return
        try:
            exchange = self.read_exchange()
        except (InputError, NotAllowed, NotFound) as exc:
            preview.update(f"Preview: check {exc}")
            return
        try:
            result = self.ledger.preview(exchange, actor=exchange.recorded_by)
        except (NotAllowed, PluginFailed) as exc:
            preview.update(f"Preview: {exc}")
            return
        if result.draft is None:
            preview.update("Preview: " + "; ".join(p.message for p in result.errors))
            return
        credits = "; credits: " + (
            ", ".join(
                f"{self.who(p.account)} {'gets' if p.amount > 0 else 'pays'} {format_minutes(abs(p.amount))}"
                for p in result.draft.postings
            )
            or "none move"
        )
        waiting = ""
        if result.decision is not None and not result.decision.direct:
            waiting = f"  (waits for {', '.join(result.decision.needs_confirmation_from)} to confirm)"
        warning = f"  ⚠ {result.warnings[0].message}" if result.warnings else ""
        said = (
            f"{exchange.day:%a %d %b %Y}: {' and '.join(map(self.who, exchange.givers))} gave"
            f" {' and '.join(map(self.who, exchange.receivers))} {format_minutes(exchange.minutes)}"
            f" of {exchange.category or 'time'}"
        )
        preview.update(f"Preview: {said}{credits}{waiting}{warning}")

    def who(self, code: str) -> str:
        """A member's name, or a shared account's (the chest) in plain words."""
        member = self.ledger.members_by_handle().get(code)
        if member is not None:
            return member.name
        return {"@chest": "the chest", "@coop": "the co-op"}.get(code, code)

    # saving -------------------------------------------------------------------

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        """Enter: stay on a wrong field (its error shown), else go to the next empty or wrong
        field, and save when none is left."""
        here = event.input.id or ""
        problem = self.field_problem(here)
        if problem:
            self.show_errors([(here, problem)])
            return
        order = [f for f, _ in REQUIRED] + ["date"]
        start = order.index(here) + 1 if here in order else 0
        for field in order[start:] + order[:start]:
            problem = self.field_problem(field)
            if field != here and (problem or not self._value(field).strip()):
                self.show_errors([(field, problem)] if problem and self._value(field).strip() else [])
                self.query_one(f"#{field}").focus()
                return
        self.action_save()

    def field_problem(self, field: str) -> str:
        """What is wrong with one field as typed ('' when it reads, or is empty)."""
        value = self._value(field)
        if not value.strip() and field != "date":
            return ""
        try:
            if field in ("giver", "receiver"):
                resolve_handles(self.ledger, value, field)
            elif field == "date":
                parse_day(value, today=self.today)
            elif field == "duration":
                parse_duration(value)
            else:
                return next((f.problem(value) for f in self.extra if ref_id(f) == field), "")
        except InputError as exc:
            return str(exc).partition(": ")[2] or str(exc)
        return ""

    def carried(self, field: str, kept: bool) -> None:
        """Mark the date or kind as carried over from the slip just saved."""
        label = self.query_one(f"#{field}-label", Label)
        label.update(f"{'Date' if field == 'date' else 'Kind'}{' kept' if kept else ''}")
        label.set_class(kept, "carried")

    def action_save(self) -> None:
        """Save straight away; only a warning waits, in a worker, for the member's answer."""
        try:
            exchange = self.read_exchange()
        except (InputError, NotAllowed) as exc:
            field, _, message = str(exc).partition(": ")
            self.show_errors([(field, message or str(exc))])
            return
        try:
            result = self.ledger.record(exchange)
        except RulesRefused as refused:
            if refused.only_warnings:
                self.confirm_warnings(exchange, refused)
            else:
                self.show_errors([(p.field, p.message) for p in refused.problems if p.severity == "error"])
            return
        except (NotAllowed, NotFound, PluginFailed, InputError) as exc:
            self.show_errors([("giver", str(exc))])
            return
        self.saved(result)

    @work(exclusive=True)
    async def confirm_warnings(self, exchange: Exchange, refused: RulesRefused) -> None:
        question = "\n".join(p.message for p in refused.problems) + "\n\nSave anyway?"
        if not await self.app.push_screen_wait(ConfirmModal(question, yes="Save anyway")):
            self.show_errors([(p.field, p.message) for p in refused.problems])
            return
        try:
            result = self.ledger.record(exchange, acknowledge=True)
        except (RulesRefused, NotAllowed, NotFound, PluginFailed, InputError) as exc:
            self.show_errors([("giver", str(exc))])
            return
        self.saved(result)

    def saved(self, result) -> None:
        self.show_errors([])
        for field in ("receiver", "duration", "note"):
            self.query_one(f"#{field}", Input).value = ""
        if self.actor is not None and self.actor.is_coordinator:
            self.query_one("#giver", Input).value = ""
        self.query_one("#matches", Static).update("")
        if isinstance(result, Claim):
            message = f"Claim #{result.id} saved; waiting for {', '.join(result.awaiting)} to confirm"
        else:
            message = f"Entry #{result.id} saved"
        day = parse_day(self._value("date"), today=self.today)
        message += f"; the date ({day:%a %d %b}) and kind are kept for the next slip"
        self.query_one("#saved", Static).update(message)
        self.carried("date", True)
        self.carried("category", True)
        self.refresh_data()
        focus = "#receiver" if self.actor is not None and not self.actor.is_coordinator else "#giver"
        self.query_one(focus, Input).focus()

    def action_clear(self) -> None:
        for field in ("giver", "receiver", "duration", "note", *(ref_id(f) for f in self.extra)):
            self.query_one(f"#{field}", Input).value = ""
        self.show_errors([])


__all__ = ["LogScreen"]
