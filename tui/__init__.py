"""The Textual terminal UI (arrives with the TUI issue); it imports timebank, never the reverse."""
