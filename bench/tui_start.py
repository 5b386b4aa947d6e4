"""Started as a fresh process by the TUI benchmark: open the app, exit once the first screen is ready."""

import sys

from timebank.tui.app import make_app


def main() -> None:
    app = make_app(sys.argv[1], actor=sys.argv[2])
    app.call_after_refresh(lambda: app.call_after_refresh(app.exit))
    app.run(headless=True)


if __name__ == "__main__":
    main()
