"""A new ledger starts with exactly one version of the rules, from one source: the templates."""

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.ledger import Ledger
from timebank.templates import DEFAULT_TEMPLATE, load_template, template_names


def rules_history(path) -> list[str]:
    result = CliRunner().invoke(cli, ["rules", "history", "--ledger", str(path)])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


@pytest.mark.parametrize("template", ["care-coop", "social-coop-it"])
def test_init_from_a_template_has_one_initial_rules_version(tmp_path, template):
    path = tmp_path / "coop.sqlite"
    made = CliRunner().invoke(cli, ["init", "--template", template, "--ledger", str(path)])
    assert made.exit_code == 0, made.output
    [only] = rules_history(path)
    assert only.split()[0] == "1" and only.endswith("initial rules")
    with Ledger(path) as ledger:
        assert ledger.rules.version == 1
        assert ledger.rules.to_data()["plugins"].keys() == load_template(template)["plugins"].keys()


def test_init_without_a_template_uses_the_default_template(tmp_path):
    path = tmp_path / "coop.sqlite"
    assert CliRunner().invoke(cli, ["init", "--ledger", str(path)]).exit_code == 0
    assert len(rules_history(path)) == 1
    with Ledger(path) as ledger:
        assert ledger.rules.to_data()["coop"]["name"] == load_template(DEFAULT_TEMPLATE)["coop"]["name"]


def test_a_ledger_created_with_no_rules_gets_the_time_bank_templates_rules(tmp_path):
    assert DEFAULT_TEMPLATE == "time-bank" and DEFAULT_TEMPLATE in template_names()
    with (
        Ledger.create(tmp_path / "plain.sqlite") as plain,
        Ledger.create(tmp_path / "templated.sqlite", load_template("time-bank")) as templated,
    ):
        assert plain.rules.version == templated.rules.version == 1
        assert plain.rules.to_data() == templated.rules.to_data()
        assert "time_bank" in plain.rules.enabled
    assert len(rules_history(tmp_path / "plain.sqlite")) == 1


def test_a_refused_rule_set_leaves_no_ledger(tmp_path):
    rules = load_template("time-bank")
    rules["plugins"]["credit_limits"]["floor"] = "300h"  # above the ceiling
    with pytest.raises(Exception, match="floor"):
        Ledger.create(tmp_path / "bad.sqlite", rules)
    assert not (tmp_path / "bad.sqlite").exists()
