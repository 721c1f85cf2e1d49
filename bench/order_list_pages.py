"""The pages bench/bench_order_list.py times: for each principal, each list's first, next,
middle and last pages, sorts, statuses, searches and date ranges. Split from
bench_order_list.py."""

import datetime
import urllib.parse

import seed_orders

LISTS = {"orders": "/ordermodelview/list/", "statements": "/statementmodelview/list/"}
# The lists' default order, sortable columns (key -> SQL column) and their date ranges.
DEFAULT_SORT = {"orders": ("id", True), "statements": ("created_on", True)}
SORT_COLUMNS = {"id": "o.id", "created_on": "o.created_on",
                "duration_months": "o.duration_months", "expires_on": "o.expires_on"}
RANGES = {"orders": ("ordered", "expires"), "statements": ("ordered",)}
STATUSES = ("pending", "effective", "expired", "cancelled")


def principals(conn):
    """{name: (username, SQL condition on orders ``o`` for its scope, description)}."""
    from sqlalchemy import text

    def subtree(channel_name):
        cid = conn.execute(text("SELECT id FROM channel WHERE name = :n"),
                           {"n": channel_name}).scalar_one()
        return ("o.enterprise_id IN (SELECT e.id FROM enterprise e WHERE e.channel_id IN "
                f"(SELECT descendant_id FROM channel_closure WHERE ancestor_id = {cid}))")

    return {
        "platform": (seed_orders.PLATFORM_ADMIN, "1 = 1", "platform admin"),
        "big": (seed_orders.BIG_ADMIN, subtree(seed_orders.ROOT_NAME),
                f"admin of {seed_orders.ROOT_NAME} (100 channels)"),
        "small": (seed_orders.SMALL_ADMIN, subtree(seed_orders.SMALL_NAME),
                  f"admin of {seed_orders.SMALL_NAME} (a leaf channel)"),
    }


class _Middles(dict):
    """A row in the middle of each sort, looked up when a page asks for it (each lookup
    reads half the scope: minutes on a loaded machine)."""

    def __init__(self, conn, cond, n):
        super().__init__()
        self.conn, self.cond, self.n = conn, cond, n

    def __missing__(self, key):
        from sqlalchemy import text

        from app.core.listing import encode_key

        col = SORT_COLUMNS[key]
        row = self.conn.execute(text(
            f"SELECT {col} AS v, o.id FROM service_order o WHERE {self.cond} "
            f"ORDER BY {col}, o.id LIMIT 1 OFFSET {self.n // 2}")).first()
        self[key] = encode_key((row.v, row.id))
        return self[key]


def build_pages(url, who, wanted=lambda page: True):
    """{principal: {list: {page name: path}}} and the number of orders each one sees; only
    the pages ``wanted`` (a page name) says yes to."""
    import sqlalchemy
    from sqlalchemy import text

    engine = sqlalchemy.create_engine(url)
    today = datetime.date.today()
    out, visible = {}, {}
    with engine.connect() as conn:
        for name, (_user, cond, _desc) in principals(conn).items():
            if name not in who:
                continue
            n = conn.execute(text(f"SELECT COUNT(*) FROM service_order o WHERE {cond}")).scalar()
            visible[name] = n
            # A row in the middle of each sort (the same cursor serves both directions).
            middles = _Middles(conn, cond, n)
            mid = conn.execute(text(
                f"SELECT o.id, e.name AS enterprise, o.reseller FROM service_order o "
                f"JOIN enterprise e ON e.id = o.enterprise_id WHERE {cond} "
                f"AND e.is_channel_own = 0 ORDER BY o.id LIMIT 1 OFFSET {n // 3}")).first()
            words = mid.enterprise.split()
            reseller = mid.reseller.split()
            searches = {
                "q_order_id": str(mid.id),
                "q_ent_one": mid.enterprise,  # one enterprise (~100 orders)
                "q_ent_few": " ".join(words[:2]),  # "Nimbus Hotel": ~21 enterprises
                "q_ent_tenth": words[0],  # "Nimbus": a 40th of the enterprises
                "q_reseller": mid.reseller,  # one reseller (~500 orders)
                "q_reseller_word": reseller[0],  # a 20th of the orders
                "q_nothing": "zzz no such order",
            }
            per_list = {}
            for lst, path in LISTS.items():
                dsort, ddesc = DEFAULT_SORT[lst]
                pages = {"first": {}, "last": {"last": "1"}}
                if wanted("middle"):
                    pages["middle"] = {"after": middles[dsort]}
                for key in SORT_COLUMNS:
                    if key == "id" and lst == "statements":
                        continue
                    for direction in ("asc", "desc"):
                        base = {"sort": key, "dir": direction}
                        pages[f"sort_{key}_{direction}"] = base
                        if wanted(f"sort_{key}_{direction}_middle"):
                            pages[f"sort_{key}_{direction}_middle"] = {
                                **base, "after": middles[key]}
                        pages[f"sort_{key}_{direction}_last"] = {**base, "last": "1"}
                for status in STATUSES:
                    pages[f"status_{status}"] = {"status": status}
                    pages[f"status_{status}_last"] = {"status": status, "last": "1"}
                for page, q in searches.items():
                    pages[page] = {"q": q}
                pages["q_ent_tenth_last"] = {"q": searches["q_ent_tenth"], "last": "1"}
                month_ago = today - datetime.timedelta(days=30)
                pages["ordered_last_month"] = {"ordered_from": month_ago.isoformat(),
                                               "ordered_to": today.isoformat()}
                two_years = today.replace(year=today.year - 2)
                pages["ordered_month_2y_ago"] = {
                    "ordered_from": two_years.isoformat(),
                    "ordered_to": (two_years + datetime.timedelta(days=30)).isoformat()}
                pages["ordered_month_2y_ago_last"] = {**pages["ordered_month_2y_ago"],
                                                      "last": "1"}
                if "expires" in RANGES[lst]:
                    pages["expires_next_month"] = {
                        "expires_from": today.isoformat(),
                        "expires_to": (today + datetime.timedelta(days=30)).isoformat()}
                    pages["expires_next_month_sorted"] = {
                        **pages["expires_next_month"], "sort": "expires_on", "dir": "asc"}
                    pages["expiring_effective"] = {
                        **pages["expires_next_month"], "status": "effective",
                        "sort": "expires_on", "dir": "asc"}
                pages["status_ent_tenth"] = {"status": "effective",
                                             "q": searches["q_ent_tenth"]}
                per_list[lst] = {k: path + ("?" + urllib.parse.urlencode(v) if v else "")
                                 for k, v in pages.items()}
            out[name] = per_list
    engine.dispose()
    return out, visible
