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


CACHE_ENTRIES = 512
# Datasette's own pages that name the file's path on the server: answered without it.
PATHLESS = ("/-/databases.json", "/-/databases")


async def without_paths(app, scope, receive, send):
    """Datasette's list of databases, with each file's path on the server left out."""
    import json

    messages = []

    async def keep(message):
        messages.append(message)

    await app(scope, receive, keep)
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:] if m["type"] == "http.response.body")
    try:
        data = json.loads(body)
        for database in data if isinstance(data, list) else []:
            database.pop("path", None)
        body = json.dumps(data).encode()
        content_type = b"application/json; charset=utf-8"
    except ValueError:
        body, content_type = b"Not found", b"text/plain; charset=utf-8"
        start = {**start, "status": 404}
    replaced = (b"content-length", b"content-type")
    headers = [(n, v) for n, v in start.get("headers", []) if n.lower() not in replaced]
    headers += [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@hookimpl
def asgi_wrapper(datasette):
    """Answer repeated GETs from memory: the published file is immutable, so are its pages.

    Only complete 200 answers that set no cookie are kept (at most ``CACHE_ENTRIES``, the
    least recently used dropped first). Publishing again means serving again, which starts
    with an empty cache.
    """
    from collections import OrderedDict

    def wrap(app):
        cache: OrderedDict = OrderedDict()

        async def cached(scope, receive, send):
            if scope["type"] != "http" or scope["method"] != "GET":
                return await app(scope, receive, send)
            if scope["path"].rstrip("/") in PATHLESS:
                return await without_paths(app, scope, receive, send)
            # the Host header is part of the key: pages carry links built from it, and one
            # forged request must not decide the links every later visitor gets
            host = dict(scope.get("headers") or []).get(b"host", b"")
            key = (host, scope["path"], scope.get("query_string", b""))
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
                await send(hit[0])
                await send({"type": "http.response.body", "body": hit[1]})
                return
            messages = []

            async def keep(message):
                messages.append(message)
                await send(message)

            await app(scope, receive, keep)
            start = messages[0] if messages else {}
            headers = {name.lower() for name, _ in start.get("headers", [])}
            if (
                start.get("type") == "http.response.start"
                and start.get("status") == 200
                and b"set-cookie" not in headers
            ):
                body = b"".join(m.get("body", b"") for m in messages[1:] if m["type"] == "http.response.body")
                cache[key] = (start, body)
                if len(cache) > CACHE_ENTRIES:
                    cache.popitem(last=False)

        return cached

    return wrap
