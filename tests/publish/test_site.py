"""The public site through Datasette's own client: pages, JSON, canned queries, refusals."""

import datetime as dt
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from timebank.cli import cli
from timebank.publish import published_through
from timebank.serve import make_datasette


@pytest.fixture
def client(published):
    return make_datasette(published).client


async def test_home_page_explains_the_figures_and_shows_charts(client, seeded):
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    assert seeded.rules.coop["name"] in html
    assert "and no figure describes one person" in html
    assert html.count("<svg") >= 3 and "Hours of care each month" in html
    assert "fewer than 5 members" in html
    assert "<td>2026-01-31 (whole months, published a week after they end)</td>" in html


async def test_charts_page(client):
    response = await client.get("/-/charts")
    assert response.status_code == 200 and response.text.count("<svg") >= 3


async def test_tables_answer_as_pages_and_json(client):
    page = await client.get("/public/hours_by_month")
    assert page.status_code == 200 and "Hours of care each month" in page.text
    data = (await client.get("/public/hours_by_month.json?_shape=array")).json()
    assert {"month", "hours", "exchanges", "members", "suppressed"} <= set(data[0])


async def test_metadata_title_licence_and_source(client, seeded):
    data = (await client.get("/-/metadata.json")).json()
    assert data["title"] == seeded.rules.coop["name"]
    assert data["license"] == "CC BY 4.0" and data["license_url"].startswith("https://creativecommons.org")
    assert data["databases"]["public"]["tables"]["charts"]["hidden"] is True


async def test_downloading_the_file_and_arbitrary_sql_are_refused(client):
    assert (await client.get("/public.db")).status_code == 403
    assert (await client.get("/public.json?sql=select+*+from+about")).status_code == 403
    assert (await client.get("/public?sql=select+1")).status_code == 403


async def test_canned_queries_answer_the_common_questions(client):
    months = (await client.get("/public/hours_each_month.json?_shape=array")).json()
    assert len(months) >= 12 and "hours" in months[0]
    month = next(m["month"] for m in months if m["hours"] is not None)
    kinds = (await client.get(f"/public/kinds_of_care_in_a_month.json?_shape=array&month={month}")).json()
    assert {k["kind"] for k in kinds} <= {"shopping", "transport", "gardening", "admin help", "personal care"}
    for name in ("members_taking_part", "reciprocity", "balances_in_bands"):
        response = await client.get(f"/public/{name}.json?_shape=array")
        assert response.status_code == 200 and response.json(), name


def test_serve_refuses_the_ledger_itself(seeded):
    result = CliRunner().invoke(cli, ["serve", str(seeded.path)])
    assert result.exit_code == 1 and "is a ledger" in result.stderr


def test_publish_command_and_metadata_for_datasette_publish(seeded, tmp_path):
    out, meta = tmp_path / "figures.sqlite", tmp_path / "metadata.json"
    result = CliRunner().invoke(
        cli, ["publish", "--ledger", str(seeded.path), "--out", str(out), "--k", "6", "--metadata", str(meta)]
    )
    assert result.exit_code == 0, result.output
    through = published_through(dt.date.today())
    assert f"figures through {through} (whole months, a week after they end); k=6" in result.output
    assert json.loads(meta.read_text())["databases"]["figures"]["queries"]
    # the same files, as 'datasette publish' would deploy them, with Datasette's own command line
    from timebank.serve import SITE

    got = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            "--immutable",
            str(out),
            "-m",
            str(meta),
            "--template-dir",
            str(SITE / "templates"),
            "--plugins-dir",
            str(SITE / "plugins"),
            "--setting",
            "allow_download",
            "off",
            "--setting",
            "default_allow_sql",
            "off",
            "--get",
            "/",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert got.returncode == 0, got.stderr
    assert seeded.rules.coop["name"] in got.stdout and "<svg" in got.stdout
