"""`rules load` of files that are not rules: wrong encoding, nesting without end, huge."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.rules import MAX_RULES_BYTES, MAX_RULES_DEPTH


@pytest.fixture
def run(tmp_path, monkeypatch):
    ledger = tmp_path / "coop.sqlite"
    monkeypatch.setenv("TIMEBANK_LEDGER", str(ledger))
    monkeypatch.delenv("TIMEBANK_USER", raising=False)

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    assert invoke("init").exit_code == 0
    invoke.ledger = ledger
    return invoke


def refused(run, path, fragment):
    before = hashlib.sha256(run.ledger.read_bytes()).hexdigest()
    result = run("rules", "load", str(path), "--as", "coordinator")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {path}: {fragment}"), result.stderr[:300]
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 700
    assert hashlib.sha256(run.ledger.read_bytes()).hexdigest() == before
    assert run("rules", "history").output.count("\n") == 1  # the initial rules only


def test_latin1_rules_name_the_line(run, tmp_path):
    path = tmp_path / "rules.toml"
    path.write_bytes('[coop]\nname = "Caf\u00e9 Care"\n'.encode("latin-1"))
    refused(run, path, "line 2 is not UTF-8 text (byte 0xe9); save the file as UTF-8")


def test_a_byte_order_mark_is_allowed(run, tmp_path):
    path = tmp_path / "rules.toml"
    path.write_bytes('\ufeff[coop]\nname = "Caf\u00e9 Care"\n[plugins.classic]\n'.encode())
    result = run("rules", "load", str(path), "--as", "coordinator")
    assert result.exit_code == 0, result.output
    assert "Caf\u00e9 Care" in run("rules", "show").output


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 10_000 + "]" * 10_000,
        "a = " + "{b = " * 10_000 + "1" + "}" * 10_000,
        "[" + ".".join(["t"] * 10_000) + "]\nx = 1\n",
        "[coop." + ".".join(["name"] * 20) + "]\nx = 1\n",
    ],
    ids=["arrays", "inline tables", "dotted tables", "under a real section"],
)
def test_deeply_nested_rules_are_one_sentence(run, tmp_path, text):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    refused(run, path, f"tables or arrays nested more than {MAX_RULES_DEPTH} deep are not rules")


def test_huge_rules_files_are_refused_before_parsing(run, tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[coop]\n" + "# padding\n" * (MAX_RULES_BYTES // 10 + 1))
    refused(run, path, f"more than {MAX_RULES_BYTES:,} bytes is too large for a rules file")


def test_a_huge_value_of_the_wrong_type_is_quoted_short(run, tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[coop]\nname = ["' + "x" * 500_000 + '"]\n')
    before = hashlib.sha256(run.ledger.read_bytes()).hexdigest()
    result = run("rules", "load", str(path), "--as", "coordinator")
    assert result.exit_code == 1 and result.stderr.startswith("error: coop.name: ['xxx")
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 700
    assert result.stderr.endswith("characters in all)\n")
    assert hashlib.sha256(run.ledger.read_bytes()).hexdigest() == before
