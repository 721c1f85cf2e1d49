"""Every POST route of the portal refuses a request without its CSRF token (400) and changes
nothing. The routes come from the URL map: a route added tomorrow is walked the day it is."""

import hashlib
import re

from sqlalchemy import func, select

from app.extensions import db

from ..conftest import Browser

# Flask routes that may take a POST without a token, and why. None today: the ACS (/acs) is
# its own WSGI app beside Flask (devices have no session to forge), and the device-facing
# /provisioning and /rps routes answer GET only.
EXEMPT = {}

# Tables a refused request may still write: the operation log records the refusal, and the
# session store keeps the visitor's session.
WRITTEN_BY_ANY_REQUEST = {"operation_log", "server_session"}

# Form fields that would make each route act if the token were not checked: a bulk action
# on real rows, a new tenant, a command, an authorization answer, a sign-in.
FORM = {"action": "freeze", "choice": "accept", "kind": "reboot", "mac": "001565c5f001",
        "name": "csrf-walk", "email": "csrf-walk@example.test", "permission_type": "rps",
        "max_devices": "5", "duration_months": "12", "first_name": "x", "last_name": "y",
        "language": "zh", "phone": "1", "quantity": "1", "next": "home"}


def _snapshot(app):
    """{table: digest of its rows}, every table of the schema."""
    out = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name in WRITTEN_BY_ANY_REQUEST:
                continue
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        db.session.rollback()
    return out


def _real_ids(app):
    """{view endpoint prefix: the newest row id of its table} (the fresh tree's, mostly), so
    a route that ignored the token would change a real row."""
    ids = {}
    with app.app_context():
        for view in app.appbuilder.baseviews:
            model = getattr(getattr(view, "datamodel", None), "obj", None)
            if model is not None and hasattr(model, "id"):
                ids[view.endpoint] = db.session.execute(select(func.max(model.id))).scalar()
    return ids


def test_every_post_route_refuses_a_post_without_its_token(app, fresh_tree):
    admin = Browser(app, fresh_tree.admin_email, fresh_tree.password)  # every permission
    anonymous = Browser(app)  # the sign-in and password pages
    ids = _real_ids(app)
    before = _snapshot(app)
    walked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in EXEMPT:
            continue
        view_name = rule.endpoint.rsplit(".", 1)[0]
        view = getattr(app.view_functions[rule.endpoint], "__self__", None)
        actions = list(getattr(view, "actions", None) or {})
        # A view without a model of its own acts on an enterprise (or, to visit, a channel).
        pk = str(ids.get(view_name) or (fresh_tree.C if rule.endpoint == "ActAsView.channel"
                                        else fresh_tree.E))
        args = {"pk": pk, "name": actions[0] if actions else "x"}
        url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>",
                     lambda m, a=args: a.get(m.group(1), "x"), rule.rule)
        data = {**FORM, "rowid": pk, "enterprise": str(fresh_tree.E),
                "username": fresh_tree.c_email, "password": fresh_tree.password}
        for who, browser in (("admin", admin), ("anonymous", anonymous)):
            response = browser.client.post(url, data=data)  # no csrf_token
            assert response.status_code == 400, f"{who} POST {url}: {response.status_code}"
        walked.append(url)
    # The routes the review named are among them.
    for expected in ("/ordermodelview/add", "/ordermodelview/action/cancel/",
                     "/act-as/enterprise/", "/act-as/channel/", "/devicemodelview/register",
                     "/devicemodelview/remove/", "/ordermodelview/export",
                     "/statementmodelview/export", "/logout/", "/login/"):
        assert any(url.startswith(expected) for url in walked), expected
    assert _snapshot(app) == before
    # Still signed in as itself (not signed out, not visiting a tenant); nobody signed in.
    page = admin.get("/")
    assert page.status_code == 200 and 'id="acting-banner"' not in page.get_data(as_text=True)
    assert anonymous.get("/").status_code == 302
