"""Modal screens that ask one thing and ``dismiss()`` a typed answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from timebank.errors import TimebankError
from timebank.models import Member
from timebank.tui.widgets.plain import plain
from timebank.units import split_flags


class ConfirmModal(ModalScreen[bool]):
    """Yes or no: a soft limit, a retirement."""

    BINDINGS = [("escape", "answer(False)", "Cancel"), ("y", "answer(True)", "Yes")]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.yes, id="yes", variant="warning")
                yield Button("Cancel", id="no")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class ReasonModal(ModalScreen[str | None]):
    """Ask for a reason (a reversal, a declined claim); Enter confirms, Escape cancels."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(
        self,
        question: str,
        action: str = "Confirm",
        required: bool = True,
        reasons: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.question = question
        self.action = action
        self.required = required
        self.reasons = reasons

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question", markup=False)
            if self.reasons:
                yield Static(
                    "Type your own, or a number: "
                    + "  ".join(f"{i} {r}" for i, r in enumerate(self.reasons, 1)),
                    id="reason-choices",
                    markup=False,
                )
            yield Input(placeholder="reason", id="reason")
            yield Static("", id="reason-error", classes="field-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.action, id="ok", variant="warning")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def confirm(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if reason.isdigit() and 1 <= int(reason) <= len(self.reasons):
            reason = self.reasons[int(reason) - 1]  # a number picks a common reason
        if self.required and not reason:
            self.query_one("#reason-error", Static).update("say why")
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class MemberFormModal(ModalScreen[Member | None]):
    """Add a member or change one; ``submit`` writes it and any error shows inline."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(
        self,
        classes: list[str],
        submit: Callable[[dict], Member],
        member: Member | None = None,
        today: dt.date | None = None,
    ) -> None:
        super().__init__()
        self.member_classes = classes
        self.submit = submit
        self.member = member
        self.today = today or dt.date.today()

    def compose(self) -> ComposeResult:
        m = self.member
        with Vertical(classes="dialog wide"):
            yield Static(
                f"Change {m.name}'s details" if m else "Add a member", classes="question", markup=False
            )
            with Grid(classes="form"):
                yield Label("Short name")
                yield Input(
                    m.handle if m else "",
                    id="handle",
                    disabled=m is not None,
                    placeholder="lower case, e.g. alice (cannot change later)",
                )
                yield Label("Full name")
                yield Input(m.name if m else "", id="name")
                yield Label("Member type")
                yield Select(
                    [(plain(c), c) for c in self.member_classes],
                    id="member_class",
                    allow_blank=False,
                    value=m.member_class if m else self.member_classes[0],
                )
                yield Label("Area")
                yield Input(m.area or "" if m else "", id="area", placeholder="optional")
                yield Label("Marks")
                yield Input(",".join(sorted(m.flags)) if m else "", id="flags", placeholder="e.g. supported")
            yield Static("", id="form-error", classes="field-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name" if self.member else "#handle", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def save(self) -> None:
        values = {
            "handle": self.query_one("#handle", Input).value.strip(),
            "name": self.query_one("#name", Input).value.strip(),
            "member_class": str(self.query_one("#member_class", Select).value),
            "area": self.query_one("#area", Input).value.strip() or None,
            "flags": split_flags(self.query_one("#flags", Input).value),
        }
        try:
            saved = self.submit(values)
        except (TimebankError, ValueError) as exc:
            self.query_one("#form-error", Static).update(str(exc))
            return
        self.dismiss(saved)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
