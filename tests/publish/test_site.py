"""The public site through Datasette's own client: pages, JSON, canned queries, refusals."""

import datetime as dt
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.publishing.publish import published_through
from timebank.publishing.serve import make_datasette


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
    assert "fewer than 5 members" in html and "a solver checks" in html
    assert "<td>2026-01-31 (whole months, published a week after they end)</td>" in html
    assert "every one&#39;s interval" in html or "every one's interval" in html, (
        "the audit's result is stated"
    )


async def test_charts_page(client):
    response = await client.get("/-/charts")
    assert response.status_code == 200 and response.text.count("<svg") >= 3


async def test_tables_answer_as_pages_and_json(client):
    page = await client.get("/public/hours_by_month")
    assert page.status_code == 200 and "Hours of care each month" in page.text
    data = (await client.get("/public/hours_by_month.json?_shape=array")).json()
    assert {"month", "hours", "minutes", "suppressed"} <= set(data[0])


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
    assert {k["kind"] for k in kinds} <= {"shopping", "transport", "gardening", "admin help", "other"}
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
    assert f"figures through {through} (whole months, a week after they end;" in result.output
    assert "k=6; audited" in result.output
    assert json.loads(meta.read_text())["databases"]["figures"]["queries"]
    # the same files, as 'datasette publish' would deploy them, with Datasette's own command line
    from timebank.publishing.serve import SITE

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


async def test_a_forged_host_header_does_not_decide_the_links_later_visitors_get(published):
    site = make_datasette(published)
    forged = await site.client.get("/public/hours_by_month", headers={"host": "evil.example"})
    assert forged.status_code == 200
    honest = await site.client.get("/public/hours_by_month")
    assert "evil.example" in forged.text, "the forged request's own page links to its host (Datasette's)"
    assert "evil.example" not in honest.text, "the cache served the forged page to the next visitor"


async def test_the_list_of_databases_does_not_show_where_the_file_is(client, published):
    for path in ("/-/databases.json", "/-/databases"):
        response = await client.get(path)
        assert str(published.parent) not in response.text, path
    assert (await client.get("/-/databases.json")).json()[0]["name"] == "public"


async def test_a_file_name_with_dots_serves_every_table(published, tmp_path):
    import shutil

    dotted = tmp_path / "figures.2026.v2.sqlite"
    shutil.copy(published, dotted)
    site = make_datasette(dotted)
    names = [r["name"] for r in (await site.client.get("/-/databases.json")).json()]
    assert names == ["figures-2026-v2"]
    for table in ("hours_by_month", "growth", "about"):
        response = await site.client.get(f"/figures-2026-v2/{table}")
        assert response.status_code == 200, table
    assert (await site.client.get("/")).status_code == 200


async def test_a_coop_of_fifty_still_shows_the_main_charts(tmp_path):
    from timebank.demo import build_demo
    from timebank.publishing.publish import publish

    today = dt.date(2026, 3, 1)
    ledger = build_demo(tmp_path / "demo.sqlite", members=50, days=400, today=today)
    try:
        publish(ledger, tmp_path / "public.sqlite", today=today + dt.timedelta(days=9))
    finally:
        ledger.close()
    html = (await make_datasette(tmp_path / "public.sqlite").client.get("/")).text
    for chart in ("hours_by_month", "active_members", "balance_bands"):
        start = html.index(f'id="chart-{chart}"')
        figure = html[start : html.index("</figure>", start)]
        shown = figure.count('fill="#2a7ab0"')
        assert shown >= 3, f"{chart}: {shown} bars shown"
