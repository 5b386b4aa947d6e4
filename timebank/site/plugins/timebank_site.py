"""The public site's one Datasette plugin: the figures' story on the home page, and a charts page.

Uses only hooks of Datasette's stable 0.65 line (``extra_template_vars``,
``register_routes``). It reads the published file's ``about``, ``charts`` and ``_tables``
tables, which is all it needs, so the same folder works with ``datasette publish``.
"""

from datasette import hookimpl
from datasette.utils.asgi import Response


async def site_vars(datasette):
    db = datasette.get_database()
    about = dict((await db.execute("SELECT key, value FROM about")).rows)
    charts = [dict(r) for r in (await db.execute("SELECT name, title, svg FROM charts")).rows]
    tables = [dict(r) for r in (await db.execute("SELECT name, title, description FROM _tables")).rows]
    return {"about": about, "charts": charts, "tables": tables, "database": db.name}


@hookimpl
def extra_template_vars(template, datasette):
    if template not in ("index.html", "timebank_charts.html"):
        return {}

    async def inner():
        return {"timebank": await site_vars(datasette)}

    return inner


async def charts_page(datasette, request):
    return Response.html(
        await datasette.render_template(
            "timebank_charts.html", {"timebank": await site_vars(datasette)}, request=request
        )
    )


@hookimpl
def register_routes():
    return [(r"^/-/charts$", charts_page)]
