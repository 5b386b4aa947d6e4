"""The board: browse offers and requests by kind of care and area, search, post one's own,
answer, accept, withdraw, and see who may fit. Everything members typed is shown as text,
never read as markup, and the screen and its dialogs fit 80x24."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, OptionList, Select, Static

from timebank.errors import TimebankError
from timebank.listings import Listing, Listings
from timebank.tui.screens.base import LedgerScreen
from timebank.tui.screens.modals import ReasonModal

ALL = "all"


class ListingsScreen(LedgerScreen):
    """Offers and requests, open ones first; filters on one line above the table."""

    DEFAULT_CSS = """
    ListingsScreen #board-filters { height: 1; padding: 0 1; }
    ListingsScreen #board-filters Select { width: 17; margin-right: 1; }
    ListingsScreen #board-filters Input { width: 1fr; }
    ListingsScreen #board-filters Input, ListingsScreen #board-filters Select {
        border: none; height: 1; padding: 0 1; background: $boost;
    }
    ListingsScreen #board-filters Select > SelectCurrent { border: none; height: 1; padding: 0 0; }
    ListingsScreen #board { height: 1fr; }
    ListingsScreen #listing-detail { height: 4; padding: 0 1; background: $panel; }
    """

    BINDINGS = [
        ("slash", "search", "Search"),
        ("n", "post", "Post"),
        ("a", "answer", "Answer"),
        ("c", "accept", "Accept"),
        ("w", "withdraw", "Withdraw"),
        ("m", "matches", "Matches"),
    ]

    def compose_body(self) -> ComposeResult:
        categories = self.ledger.categories()
        areas = sorted({m.area for m in self.ledger.members() if m.area})
        with Horizontal(id="board-filters"):
            yield Select(
                [("Requests", "request"), ("Offers", "offer"), ("Both", ALL)],
                id="board-kind",
                allow_blank=False,
                value=ALL,
            )
            yield Select(
                [("Any kind", ALL), *((c, c) for c in categories)],
                id="board-category",
                allow_blank=False,
                value=ALL,
            )
            yield Select(
                [("Any area", ALL), *((a, a) for a in areas)], id="board-area", allow_blank=False, value=ALL
            )
            yield Input(placeholder="search words", id="board-search")
        yield DataTable(id="board", cursor_type="row", zebra_stripes=True)
        yield Static("", id="listing-detail", markup=False)
        yield Label("", id="board-message", classes="message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#board", DataTable).add_columns("#", "kind", "state", "care", "area", "who", "title")

    @property
    def board(self) -> Listings:
        return Listings(self.ledger)

    def _value(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value in (ALL, Select.BLANK) else str(value)

    def refresh_data(self) -> None:
        table = self.query_one("#board", DataTable)
        keep = self.selected_id()
        table.clear()
        text = self.query_one("#board-search", Input).value
        try:
            items = self.board.board(
                kind=self._value("#board-kind"),
                category=self._value("#board-category"),
                area=self._value("#board-area"),
                text=text or None,
                today=self.today,
                limit=500,
            )
        except TimebankError as exc:
            self.say(str(exc))
            return
        for item in items:
            table.add_row(
                *(
                    Text(cell, no_wrap=True, overflow="ellipsis")
                    for cell in (
                        str(item.id),
                        item.kind,
                        item.state(self.today),
                        item.category,
                        item.area or "-",
                        item.member,
                        item.title,
                    )
                ),
                key=str(item.id),
            )
        if keep is not None and str(keep) in {k.value for k in table.rows}:
            table.move_cursor(row=table.get_row_index(str(keep)))
        self.show_detail()

    def say(self, message: str) -> None:
        self.query_one("#board-message", Label).update(Text(message))

    def selected_id(self) -> int | None:
        table = self.query_one("#board", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(key.value) if key.value is not None else None

    def selected(self) -> Listing | None:
        listing_id = self.selected_id()
        return self.board.get(listing_id) if listing_id is not None else None

    @on(DataTable.RowHighlighted, "#board")
    def show_detail(self) -> None:
        item = self.selected()
        detail = self.query_one("#listing-detail", Static)
        if item is None:
            detail.update(Text("Nothing on the board here yet. n posts an offer or a request."))
            return
        answers = [a.member for a in self.board.answers(item.id)]
        lines = [
            f"{item.kind} #{item.id} by {self.ledger.member(item.member).name}: {item.title}",
            f"when: {item.availability}; open until {item.expires_on}"
            + (f"; taken up by {item.taken_by}" if item.taken_by else ""),
            f"answered by: {', '.join(answers)}" if answers else "no answers yet",
            item.description.replace("\n", " "),
        ]
        detail.update(Text("\n".join(lines)))

    @on(Select.Changed)
    @on(Input.Submitted, "#board-search")
    def filters_changed(self) -> None:
        self.refresh_data()

    def action_search(self) -> None:
        self.query_one("#board-search", Input).focus()

    def _acting(self) -> str | None:
        if self.actor is None:
            self.say("choose who is recording first (F8)")
            return None
        return self.actor.handle

    @work(exclusive=True)
    async def action_post(self) -> None:
        actor = self._acting()
        if actor is None:
            return
        board = self.board

        def submit(values: dict) -> Listing:
            return board.post(actor=actor, today=self.today, **values)

        posted = await self.app.push_screen_wait(ListingFormModal(self.ledger.categories(), submit))
        if posted is not None:
            self.say(f"{posted.kind} #{posted.id} posted; open until {posted.expires_on}")
            self.refresh_data()

    def action_answer(self) -> None:
        item, actor = self.selected(), self._acting()
        if item is None or actor is None:
            return
        try:
            self.board.answer(item.id, actor=actor, today=self.today)
        except TimebankError as exc:
            self.say(str(exc))
            return
        self.say(f"you answered #{item.id}; {item.member} or a co-ordinator will accept")
        self.refresh_data()

    @work(exclusive=True)
    async def action_accept(self) -> None:
        item, actor = self.selected(), self._acting()
        if item is None or actor is None:
            return
        answers = [a.member for a in self.board.answers(item.id)]
        if not answers:
            self.say(f"nobody has answered #{item.id} yet")
            return
        member = await self.app.push_screen_wait(PickModal(f"Accept whose answer to #{item.id}?", answers))
        if member is None:
            return
        try:
            self.board.accept(item.id, member, actor=actor, today=self.today)
        except TimebankError as exc:
            self.say(str(exc))
            return
        self.say(f"#{item.id} taken up by {member}; log the hours with listing {item.id}")
        self.refresh_data()

    @work(exclusive=True)
    async def action_withdraw(self) -> None:
        item, actor = self.selected(), self._acting()
        if item is None or actor is None:
            return
        reason = await self.app.push_screen_wait(
            ReasonModal(f"Withdraw {item.kind} #{item.id}?", "Withdraw", required=False)
        )
        if reason is None:
            return
        try:
            self.board.withdraw(item.id, actor=actor, reason=reason, today=self.today)
        except TimebankError as exc:
            self.say(str(exc))
            return
        self.say(f"{item.kind} #{item.id} withdrawn")
        self.refresh_data()

    def action_matches(self) -> None:
        item = self.selected()
        if item is None:
            return
        try:
            found = self.board.match(item.id, today=self.today, limit=3)
        except TimebankError as exc:
            self.say(str(exc))
            return
        lines = [f"who may fit #{item.id}:"] + [
            f"  {m.member}: {m.title + ' (#' + str(m.other) + '), ' if m.other else ''}{m.reason}"
            for m in found
        ]
        self.query_one("#listing-detail", Static).update(
            Text("\n".join(lines if found else ["no matches yet"]))
        )


class ListingFormModal(ModalScreen[Listing | None]):
    """Post an offer or a request; a rule's refusal shows inline."""

    DEFAULT_CSS = """
    ListingFormModal .listing-form {
        grid-size: 2; grid-columns: 12 1fr; grid-rows: 1; grid-gutter: 1 0; height: auto;
    }
    ListingFormModal .listing-form Input, ListingFormModal .listing-form Select {
        border: none; height: 1; padding: 0 1; background: $boost;
    }
    ListingFormModal .listing-form Select > SelectCurrent { border: none; height: 1; padding: 0 0; }
    """
    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(self, categories: list[str], submit) -> None:
        super().__init__()
        self.categories = categories
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static("Post an offer or a request", classes="question")
            with Grid(classes="listing-form"):
                yield Label("Offer or")
                yield Select(
                    [("I can give", "offer"), ("I need", "request")],
                    id="form-kind",
                    allow_blank=False,
                    value="request",
                )
                yield Label("Kind of care")
                yield Select([(c, c) for c in self.categories], id="form-category", allow_blank=False)
                yield Label("Title")
                yield Input(id="form-title", placeholder="in a few words")
                yield Label("More")
                yield Input(id="form-description", placeholder="optional")
                yield Label("Area")
                yield Input(id="form-area", placeholder="default: your area")
                yield Label("When")
                yield Input(id="form-when", value="flexible")
            yield Label("", id="form-error", classes="field-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Post", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#form-title", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def save(self) -> None:
        area = self.query_one("#form-area", Input).value.strip()
        values = {
            "kind": str(self.query_one("#form-kind", Select).value),
            "category": str(self.query_one("#form-category", Select).value),
            "title": self.query_one("#form-title", Input).value,
            "description": self.query_one("#form-description", Input).value,
            "area": area or None,
            "availability": self.query_one("#form-when", Input).value,
        }
        try:
            posted = self.submit(values)
        except TimebankError as exc:
            self.query_one("#form-error", Label).update(Text(str(exc)))
            return
        self.dismiss(posted)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class PickModal(ModalScreen[str | None]):
    """Choose one of a few members (whose answer to accept)."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(self, question: str, choices: list[str]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question), classes="question")
            yield OptionList(*(Text(choice) for choice in self.choices), id="pick")

    def on_mount(self) -> None:
        self.query_one("#pick", OptionList).focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
