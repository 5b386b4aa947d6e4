"""``timebank serve``: Datasette on the published file, and nothing else.

The file is served immutable; downloading it and running arbitrary SQL are off, the
common questions are canned queries, and the title, description, licence and source
come from the co-op's settings (recorded in the file's ``about`` table). The home page
explains the figures in plain words and shows the charts drawn at publish time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from timebank.storage.publications import read_about

SITE = Path(__file__).parent / "site"
SETTINGS = {
    "allow_download": False,
    "default_allow_sql": False,
    "allow_facet": False,
    "suggest_facets": False,
}

CANNED = {
    "hours_each_month": (
        "Hours of care each month",
        "SELECT month, hours, suppressed FROM hours_by_month ORDER BY month",
    ),
    "kinds_of_care_in_a_month": (
        "Kinds of care in a month",
        "SELECT kind, hours, suppressed FROM hours_by_month_kind WHERE month = :month ORDER BY hours DESC",
    ),
    "members_taking_part": (
        "Members taking part each month",
        "SELECT month, members AS active_members, suppressed FROM members_active"
        " WHERE member_class = 'all' ORDER BY month",
    ),
    "reciprocity": (
        "Members who both gave and received",
        "SELECT month, measure, members, suppressed FROM reciprocity ORDER BY month",
    ),
    "balances_in_bands": (
        "Balances in bands",
        "SELECT month, band, members, suppressed FROM balance_bands ORDER BY month",
    ),
}


def database_name(path: str | Path) -> str:
    """The name the site serves the file under: its stem with anything but letters, digits,
    ``-`` and ``_`` made ``-`` (Datasette reads a dot in a route as a format: every table
    page of ``figures.2026.sqlite`` would answer 500)."""
    stem = Path(path).stem
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in stem) or "figures"


def metadata_for(path: str | Path, name: str | None = None) -> dict[str, Any]:
    """Datasette metadata built from the published file's own ``about`` and ``_tables``.

    ``name`` is the database's name on the site (default: the file's stem, as Datasette's
    own ``datasette serve`` names it).
    """
    about, tables = read_about(path)
    tables.update(
        {
            "_tables": {"hidden": True},
            "charts": {"hidden": True},
            "_publications": {
                "title": "Publications",
                "description": "Each publication of these figures: the months it added, a digest.",
            },
            "about": {"title": "About these figures", "description": "How and when they were made."},
        }
    )
    return {
        "title": about["coop"],
        "description": about.get("description", ""),
        "license": about.get("licence", ""),
        "license_url": about.get("licence_url", ""),
        "source": "timebank",
        "source_url": about.get("source_url") or "",
        "databases": {
            name or Path(path).stem: {
                "tables": tables,
                "queries": {name: {"title": title, "sql": sql} for name, (title, sql) in CANNED.items()},
            }
        },
    }


def make_datasette(path: str | Path):
    """A Datasette instance over the published file, as ``timebank serve`` runs it.

    The file is added under ``database_name`` (no dots), immutable, as ``--immutable`` would.
    """
    from datasette.app import Datasette
    from datasette.database import Database

    name = database_name(path)
    ds = Datasette(
        metadata=metadata_for(path, name),
        settings=SETTINGS,
        template_dir=str(SITE / "templates"),
        plugins_dir=str(SITE / "plugins"),
    )
    ds.remove_database("_memory")  # Datasette adds it when started without files
    ds.add_database(Database(ds, path=str(path), is_mutable=False), name=name)
    return ds


def serve(path: str | Path, *, host: str = "127.0.0.1", port: int = 8001) -> None:
    import uvicorn

    uvicorn.run(make_datasette(path).app(), host=host, port=port, log_level="warning")
