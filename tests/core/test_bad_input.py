"""Bad input gets a 4xx with a message, never a 500: odd ids, unknown action names, forged
page cursors, FAB's paging, ordering and filter arguments and JSON bodies, thrown at every
route each role may open. The routes come from the URL map and the people from the roles,
so a screen registered tomorrow is covered the day it is. And a crash shows the portal's
500 page."""

import base64
import json
import re
import uuid

import pytest

from app.accounts import roles
from app.core.listing import FastListMixin
from app.extensions import db
from app.models import AccountKind

from ..conftest import Browser, csrf_token_from, ids_of, make_app
from ..tree import build_tree

BIG = 2**64  # past any 64-bit column
ODD_PKS = [str(BIG), "-1", "abc"]
ODD_ACTIONS = ["nope", "can_list"]  # unknown; a permission name that is no action
# Whatever else a route takes in its path.
ODD_PATH_VALUES = {"filename": "..%2F..%2Fetc%2Fpasswd", "mac": "zz" * 40, "name": "x" * 300,
                   "challenge": "x" * 300, "token": "x" * 300, "locale": "xx",
                   "group_by": "nope"}
# JSON where a form is expected: not an object, and an object of nested values.
ODD_JSON = [[1, 2], {"username": {"a": 1}, "password": [1, [2]], "email": None,
                     "name": {"x": [1]}, "q": 10**30, "csrf_token": [1]}]
# Everything else one can type into a page's address, in one request per page.
ODD_ARGS = {"sort": "nope", "dir": "sideways", "q": "%_\\" * 100, "psize": str(BIG),
            "last": "1", "status": "zzz", "enterprise": str(BIG), "model": "x" * 300,
            "page": "abc", "range": "nope", "start": "2026-13-45", "end": str(BIG)}


def _cursor(value, pk):
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode().rstrip("=")


# Cursors of any sort order, then cursors whose value is of another type than the sort
# column's (a number for a name, text for an id or a date).
CURSORS = [_cursor(None, True), _cursor(True, 1), _cursor(1, BIG)]
CURSORS_PER_SORT = [_cursor(BIG, 1), _cursor("x", 1)]


def _fab_list_args(view):
    """FAB's own paging, ordering and filter arguments (its stock screens read them): per
    search column, a filter past the column's last one and a number past 64 bits."""
    name = type(view).__name__
    return [{f"page_{name}": "abc"}, {f"page_{name}": str(BIG)},
            {f"psize_{name}": "x"}, {f"psize_{name}": str(BIG)},
            {f"_oc_{name}": "nope", f"_od_{name}": "asc"},
            *({f"_flt_9_{column}": "x", f"_flt_0_{column}": str(BIG)}
              for column in getattr(view, "search_columns", None) or ())]


def _fill(rule, **values):
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values.get(
        m.group(1), ODD_PATH_VALUES.get(m.group(1), "x")), rule.rule)


def _reaches(app, permissions, rule):
    """Whether FAB's has_access would let this role through (as its decorator decides), so
    each role gets the routes it may open; a route behind no permission, everyone."""
    func = app.view_functions[rule.endpoint]
    view, name = getattr(func, "__self__", None), getattr(func, "_permission_name", None)
    if view is None or name is None:
        return True
    name = (view.method_permission_name or {}).get(func.__name__) or name
    return (f"can_{name}", view.class_permission_name) in permissions


# How Werkzeug's bare error pages begin: a refusal shows a page of the portal instead, with
# a message and the way back.
WERKZEUG_PAGE = "<!doctype html>\n<html lang=en>\n<title>"


class Crashes(list):
    """What went wrong: a crash, or a refusal on Werkzeug's bare page."""

    def request(self, who, label, call):
        try:
            response = call()
        except Exception as exc:  # TESTING lets a crash through: that is the 500
            self.append(f"{who} {label}: {type(exc).__name__}: {exc}"[:300])
            return None
        if response.status_code >= 500:
            self.append(f"{who} {label}: {response.status_code}")
        elif response.status_code >= 400 and response.get_data(as_text=True).startswith(
                WERKZEUG_PAGE):
            self.append(f"{who} {label}: {response.status_code}, Werkzeug's bare page")
        return response


@pytest.fixture(scope="module")
def people(app):
    """{who: (browser, permissions)}: one signed-in browser per role (the tree has no
    finance account: one is made here), a sub-account, and an anonymous browser."""
    with app.app_context():
        t = build_tree(db.session, f"bi{uuid.uuid4().hex[:6]}")
        sm = app.appbuilder.sm
        finance = f"fin@{t.prefix}.test"
        operator = f"ops@{t.prefix}.test"  # a sub-account per sub-account role
        for email, role in ((finance, roles.CHANNEL_FINANCE),
                            (operator, roles.CHANNEL_DEVICE_OPERATOR)):
            user = sm.add_user(username=email, first_name="sub", last_name=t.prefix,
                               email=email, role=sm.find_role(role), password=t.password)
            user.kind, user.channel_id = AccountKind.channel_sub, t.A.id
        db.session.commit()
        t = ids_of(t)
        accounts = {roles.ADMIN: t.admin_email, roles.CHANNEL_ADMIN: t.a_email,
                    roles.CHANNEL_FINANCE: finance, roles.CHANNEL_DEVICE_OPERATOR: operator,
                    roles.ENTERPRISE_ADMIN: t.ent_email,
                    roles.RPS_ENTERPRISE_ADMIN: t.rps_email}
        assert set(accounts) == {roles.ADMIN, *roles.ROLE_DEFINITIONS}, "a role, no account"

        public = app.config["AUTH_ROLE_PUBLIC"]
        permissions = {role: {(pv.permission.name, pv.view_menu.name)
                              for pv in sm.find_role(role).permissions}
                       for role in [*accounts, public]}
    # Outside the app context: each request must get its own (and its own g.user).
    out = {role: (Browser(app, email, t.password), permissions[role])
           for role, email in accounts.items()}
    out["sub-account"] = (Browser(app, t.sub_email, t.password),
                          permissions[roles.CHANNEL_ADMIN])
    anonymous = Browser(app)
    anonymous.token = csrf_token_from(anonymous.get("/login/").get_data(as_text=True))
    out["anonymous"] = (anonymous, permissions[public])
    return out


def _lists(app, browser, who, rules, crashes):
    """Every list the role opens, with odd arguments; {route base: an id it shows}."""
    shown = {}
    for rule in rules:
        if not rule.endpoint.endswith(".list") or "GET" not in rule.methods:
            continue
        url = _fill(rule)
        response = crashes.request(who, f"GET {url}", lambda u=url: browser.get(u))
        if response is None or response.status_code != 200:
            continue
        base = rule.rule.rsplit("/list/", 1)[0]
        found = re.search(re.escape(base) + r"/(?:show/)?(\d+)\"", response.get_data(
            as_text=True))
        if found:
            shown[base] = found.group(1)
        view = app.view_functions[rule.endpoint].__self__
        shapes = [ODD_ARGS]
        if not isinstance(view, FastListMixin):
            shapes += _fab_list_args(view)
        else:
            shapes += [{"after": c} for c in CURSORS]
            shapes += [{"sort": sort, ("after", "before")[n % 2]: c}
                       for sort in view._sortable() for n, c in enumerate(CURSORS_PER_SORT)]
        for args in shapes:
            crashes.request(who, f"GET {url} {args}",
                            lambda u=url, a=args: browser.get(u, query_string=a))
    return shown


# One test per signed-in role (and the anonymous visitor): each is a minute of requests on a
# small machine, spread over the test workers instead of one worker's.
WHO = [roles.ADMIN, *roles.ROLE_DEFINITIONS, "sub-account", "anonymous"]


@pytest.mark.parametrize("who", WHO)
def test_bad_input_never_gets_a_500(app, people, who):
    crashes = Crashes()
    # Signing out ends the browser's session: last.
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"
                    and not r.endpoint.endswith(".static")),
                   key=lambda r: (r.endpoint == "YmcsAuthDBView.logout", r.rule))
    assert set(people) == set(WHO)
    browser, permissions = people[who]
    mine = [r for r in rules if _reaches(app, permissions, r)]
    shown = _lists(app, browser, who, mine, crashes)
    if who != "sub-account":  # the channel admin's role: only its lists are narrower
        for rule in mine:
            real = shown.get("/" + rule.rule.strip("/").split("/")[0])  # an id of its view
            urls = []
            if "pk" in rule.arguments:
                urls += [_fill(rule, pk=pk) for pk in ODD_PKS]
                if real and "name" in rule.arguments:
                    urls += [_fill(rule, pk=real, name=name) for name in ODD_ACTIONS]
            elif rule.arguments:
                urls.append(_fill(rule))
            for method in sorted(rule.methods & {"GET", "POST"}):
                for url in urls:
                    if method == "POST" and url.endswith("/-1"):
                        continue  # a small negative id: the GET says enough
                    call = browser.get if method == "GET" else browser.post
                    crashes.request(who, f"{method} {url}", lambda u=url, c=call: c(u))
                if method == "GET" and not rule.endpoint.endswith(".list") and (
                        "pk" not in rule.arguments or real):
                    url = _fill(rule, pk=real)
                    crashes.request(who, f"GET {url} odd args", lambda u=url, b=browser: b.get(
                        u, query_string=ODD_ARGS))
                # Forms (a page that posts to itself): Flask-WTF reads a JSON body as one.
                if method == "POST" and "GET" in rule.methods and "pk" not in rule.arguments:
                    url = _fill(rule)
                    for body in ODD_JSON:
                        crashes.request(who, f"POST {url} json {body!r}"[:120],
                                        lambda u=url, j=body, b=browser: b.client.post(
                                            u, json=j, headers={"X-CSRFToken": b.token}))
    assert not crashes, f"{len(crashes)} requests crashed:\n" + "\n".join(crashes)


def test_a_crash_shows_the_portal_500_page_without_its_traceback(database_url, tree):
    crashing = make_app(database_url, TESTING=False)

    @crashing.route("/crash-for-test")
    def crash():
        raise RuntimeError("secret-detail-of-the-crash")

    response = crashing.test_client().get("/crash-for-test")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and 'id="error-page"' in page
    assert "secret-detail-of-the-crash" not in page and "Traceback" not in page
