"""Plugins at command registration cannot take the commands that must always work with them,
and a plugin enabled in the rules but since uninstalled can be disabled by a co-ordinator."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import timebank.plugin_manager
from timebank.cli.main import TimebankGroup, cli

PLUGINS = {
    "broken": "def register_commands(cli):\n    raise ZeroDivisionError('division by zero')\n",
    "usurper": (
        "import click\n"
        "def register_commands(cli):\n"
        "    @cli.command('verify')\n"
        "    def verify():\n"
        "        click.echo('all is well, trust me')\n"
    ),
    "halfway": (
        "import click\n"
        "def register_commands(cli):\n"
        "    @cli.command('half')\n"
        "    def half():\n"
        "        click.echo('half')\n"
        "    return 1 / 0\n"
    ),
    "friendly": (
        "import click\n"
        "def register_commands(cli):\n"
        "    @cli.command('hello')\n"
        "    def hello():\n"
        "        click.echo('hello from a plugin')\n"
    ),
}


@pytest.fixture
def plugin_folder(tmp_path, monkeypatch):
    """The real plugins folder mechanism, with this process's plugin state reset and restored."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    for name, source in PLUGINS.items():
        (folder / f"{name}.py").write_text(
            "from timebank import hookimpl\n" + source.replace("def register", "@hookimpl\ndef register")
        )
    monkeypatch.setenv("TIMEBANK_PLUGINS_DIR", str(folder))
    fresh_plugins(monkeypatch)
    return folder


@pytest.fixture
def levy_folder(tmp_path, monkeypatch):
    """A plugins folder holding only ``levy``, and a ledger path in the environment."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "levy.py").write_text(LEVY)
    monkeypatch.setenv("TIMEBANK_PLUGINS_DIR", str(folder))
    monkeypatch.setenv("TIMEBANK_LEDGER", str(tmp_path / "coop.sqlite"))
    fresh_plugins(monkeypatch)
    return folder


def fresh_plugins(monkeypatch) -> None:
    """Forget the plugins this process loaded and the commands they added, as a new run would."""
    monkeypatch.setattr(timebank.plugin_manager, "_default", None)
    monkeypatch.setattr(TimebankGroup, "_plugin_commands_added", False)
    monkeypatch.setattr(cli, "commands", core_commands())


def core_commands() -> dict:
    """timebank's own commands, without any a plugin added earlier in this process."""
    return {
        name: command
        for name, command in cli.commands.items()
        if command.callback is not None and command.callback.__module__.startswith("timebank.cli.commands")
    }


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_commands_that_must_work_work_whatever_plugins_do_at_registration(plugin_folder, tmp_path):
    ledger = str(tmp_path / "coop.sqlite")
    first = invoke("init", "--ledger", ledger)
    assert first.exit_code == 0, first.output
    assert sorted(first.stderr.splitlines()) == [
        "warning: plugin 'broken' failed in register_commands: ZeroDivisionError: division by zero; "
        "its commands are left out",
        "warning: plugin 'halfway' failed in register_commands: ZeroDivisionError: division by zero; "
        "its commands are left out",
        "warning: plugin 'usurper' tried to add the command 'verify', which already exists; "
        "its commands are left out",
    ]
    assert invoke("verify", "--ledger", ledger).output.startswith("ledger verified: 0 entries")
    assert invoke("backup", str(tmp_path / "copy.sqlite"), "--ledger", ledger).exit_code == 0
    assert invoke("restore", str(tmp_path / "copy.sqlite"), "--ledger", ledger).exit_code == 0
    assert invoke("upgrade", "--ledger", ledger).exit_code == 0
    assert (
        invoke("rules", "disable", "credit_limits", "--as", "coordinator", "--ledger", ledger).exit_code == 0
    )
    assert (
        invoke("rules", "enable", "credit_limits", "--as", "coordinator", "--ledger", ledger).exit_code == 0
    )
    assert "broken" in invoke("plugins").output
    help_text = invoke("--help").output
    assert "verify" in help_text and "hello" in help_text and "half" not in help_text.split()
    assert invoke("hello").output == "hello from a plugin\n"
    half = invoke("half")  # the failed plugin's half-made command was left out
    assert half.exit_code == 1 and "no such command 'half'" in half.stderr.lower()


LEVY = (
    "from timebank import hookimpl, Posting\n"
    "@hookimpl\n"
    "def add_postings(ledger, exchanges, postings, settings):\n"
    "    return [[Posting(e.givers[0], -1), Posting('@coop', 1)] for e in exchanges]\n"
)


def test_a_plugin_uninstalled_after_it_was_enabled_can_be_disabled(levy_folder, tmp_path, monkeypatch):
    folder = levy_folder
    for args in (
        ("init",),
        ("member", "add", "alice", "Alice", "--as", "coordinator"),
        ("member", "add", "bob", "Bob", "--as", "coordinator"),
        ("rules", "enable", "levy", "--as", "coordinator"),
        ("log", "alice", "bob", "1h", "-k", "shopping", "--as", "coordinator"),
    ):
        assert invoke(*args).exit_code == 0, args
    assert invoke("balance", "@coop").output == "@coop: 1m\n"

    (folder / "levy.py").unlink()  # uninstalled
    monkeypatch.setattr(timebank.plugin_manager, "_default", None)
    missing = (
        "error: rules: the rules in force (version 2) enable the plugin 'levy', which is not "
        "installed here; install it again, or have a co-ordinator disable it with "
        "'timebank rules disable levy'\n"
    )
    for args in (
        ("rules", "show"),
        ("log", "alice", "bob", "1h", "-k", "shopping", "--as", "coordinator"),
        ("rules", "set", "coop.name", "Elsewhere", "--as", "coordinator"),
        ("rules", "disable", "credit_limits", "--as", "coordinator"),
    ):
        result = invoke(*args)
        assert (result.exit_code, result.stderr) == (1, missing), args
    # reading, verify and backup do not need the rules applied
    assert invoke("balance", "@coop").output == "@coop: 1m\n"
    assert invoke("verify").exit_code == 0
    assert invoke("backup", str(tmp_path / "copy.sqlite")).exit_code == 0
    # a member who may not change the rules may not disable it either
    result = invoke("rules", "disable", "levy", "--as", "alice")
    assert result.exit_code == 1 and "co-ordinator" in result.stderr, result.stderr
    assert "alice" not in invoke("rules", "history").output
    result = invoke("rules", "disable", "levy", "--as", "coordinator")
    assert result.output == "rules version 3: disabled levy\n", result.output
    assert "disabled levy" in invoke("rules", "history").output
    assert "levy" not in invoke("rules", "show").output
    assert invoke("log", "alice", "bob", "1h", "-k", "shopping", "--as", "coordinator").exit_code == 0
    assert invoke("balance", "@coop").output == "@coop: 1m\n"


def test_a_plugin_file_that_does_not_import_is_left_out_and_named(levy_folder, tmp_path, monkeypatch):
    folder = levy_folder
    assert invoke("init").exit_code == 0
    assert invoke("rules", "enable", "levy", "--as", "coordinator").exit_code == 0

    (folder / "levy.py").write_text(LEVY + "def broken(:\n")  # an upgrade of it that does not load
    fresh_plugins(monkeypatch)
    result = invoke("verify")
    assert result.exit_code == 0 and result.stdout.startswith("ledger verified")
    assert result.stderr.startswith(
        f"warning: plugin 'levy' could not be loaded from {folder / 'levy.py'} (SyntaxError: "
    )
    assert result.stderr.endswith("; it is left out\n") and result.stderr.count("\n") == 1
    assert invoke("backup", str(tmp_path / "copy.sqlite")).exit_code == 0
    result = invoke("rules", "show")
    assert result.exit_code == 1 and "enable the plugin 'levy', which is not installed here" in result.stderr
    assert invoke("rules", "disable", "levy", "--as", "coordinator").exit_code == 0
    assert invoke("rules", "show").exit_code == 0
