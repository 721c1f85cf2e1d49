"""The Operation Log: readable names, filters (time, operation type, path, user, result),
scope (another tree's rows never show), read-only, and the retention job."""

import datetime

from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import OperationLog, utcnow
from app.system.operations import OPERATION_TYPES, operation_label
from app.system.queries import parse_log_criteria, prune_operation_log

LIST = "/operationlogmodelview/list/"


def _row(t, **values):
    row = dict(created_on=utcnow(), user_id=t.a, username=t.a_email, channel_id=t.A,
               enterprise_id=None, operation="EnterpriseModelView.add",
               path="/enterprisemodelview/add", method="POST", ip="192.0.2.1",
               result="success", status_code=302)
    row.update(values)
    return row


def _insert(app, rows):
    with app.app_context():
        db.session.execute(insert(OperationLog), rows)
        db.session.commit()


def test_every_operation_type_has_a_name_in_both_languages(app):
    from flask_babel import force_locale

    with app.test_request_context():
        for _key, label, operations in OPERATION_TYPES:
            assert operations
            with force_locale("zh"):
                zh = str(label)
            assert zh != str(label), f"no Chinese for {label}"
    assert str(operation_label("nope.x")) == "nope.x"


def test_filters_narrow_the_list_and_another_tree_never_shows(app, fresh_tree, login):
    t = fresh_tree
    # Written in time order, as the log is: the "later" row last.
    later = utcnow() + datetime.timedelta(days=40)
    _insert(app, [
        _row(t, path=f"/{t.prefix}/one"),
        _row(t, operation="ChannelModelView.action_post:freeze", path=f"/{t.prefix}/freeze",
             result="failure", status_code=403),
        _row(t, username=t.s_email, channel_id=t.S, path=f"/{t.prefix}/other-tree"),
    ])
    _insert(app, [_row(t, created_on=later, path=f"/{t.prefix}/later", username=t.b_email,
                       channel_id=t.B)])
    browser = login(t.a_email, t.password)

    def paths(**args):
        page = browser.get(LIST, query_string={**args, "path": f"/{t.prefix}/"})
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert f"/{t.prefix}/other-tree" not in text
        return {p for p in ("one", "freeze", "later") if f"/{t.prefix}/{p}<" in text}

    assert paths() == {"one", "freeze", "later"}
    assert paths(op="ChannelModelView:freeze") == {"freeze"}
    assert "Freeze channel" in browser.get(LIST, query_string={
        "op": "ChannelModelView:freeze"}).get_data(as_text=True)
    assert paths(result="failure") == {"freeze"}
    assert paths(user=t.b_email) == {"later"}
    day = later.date().isoformat()
    assert paths(start=day, end=day) == {"later"}
    assert paths(end=utcnow().date().isoformat()) == {"one", "freeze"}
    assert paths(start=(later.date() + datetime.timedelta(days=1)).isoformat()) == set()
    assert paths(start=utcnow().date().isoformat(), op="ChannelModelView:freeze") == {
        "freeze"}
    page = browser.get(LIST, query_string={"start": "2026-13-01"}).get_data(as_text=True)
    assert "Dates are written YYYY-MM-DD." in page
    page = browser.get(LIST, query_string={"start": "2026-02-01", "end": "2026-01-01"})
    assert "The end date is before the start date." in page.get_data(as_text=True)
    # Chinese names
    browser.get("/lang/zh")
    with app.test_request_context():
        from flask_babel import force_locale
        with force_locale("zh"):
            zh = str(operation_label("ChannelModelView.action_post:freeze"))
    assert zh in browser.get(LIST, query_string={"op": "ChannelModelView:freeze"}) \
        .get_data(as_text=True)


def test_nobody_edits_or_deletes_log_rows(app, tree, login):
    _insert(app, [_row(tree, path="/ro")])
    with app.app_context():
        pk = db.session.execute(select(func.max(OperationLog.id))).scalar()
    for email in (tree.admin_email, tree.a_email):
        browser = login(email, tree.password)
        assert browser.post(f"/operationlogmodelview/delete/{pk}").status_code in (403, 404,
                                                                                     405)
        assert browser.post(f"/operationlogmodelview/edit/{pk}",
                            data={"path": "/x"}).status_code in (403, 404, 405)
        assert browser.post("/operationlogmodelview/add",
                            data={"path": "/x"}).status_code in (403, 404, 405)
    with app.app_context():
        assert db.session.get(OperationLog, pk).path == "/ro"


def test_show_of_another_trees_row_is_404(app, tree, login):
    _insert(app, [_row(tree, username=tree.s_email, channel_id=tree.S, path="/s-only")])
    with app.app_context():
        pk = db.session.execute(select(func.max(OperationLog.id))).scalar()
    assert login(tree.a_email, tree.password).get(
        f"/operationlogmodelview/show/{pk}").status_code == 404


def test_criteria_ignore_what_they_do_not_know():
    criteria, errors = parse_log_criteria({"op": "nope", "result": "maybe", "user": "x" * 500})
    assert criteria.op == "" and criteria.result == "" and len(criteria.user) == 128
    assert errors == []


def test_pruning_deletes_only_rows_past_retention(app, fresh_tree):
    t = fresh_tree
    now = utcnow()
    _insert(app, [_row(t, created_on=now - datetime.timedelta(days=d), path=f"/prune/{d}")
                  for d in (1, 29, 31, 400)])
    with app.app_context():
        assert prune_operation_log(db.session, 0, now) == 0
        deleted = prune_operation_log(db.session, 30, now)
        left = set(db.session.execute(select(OperationLog.path).where(
            OperationLog.path.like("/prune/%"))).scalars())
    assert deleted >= 2 and left == {"/prune/1", "/prune/29"}


def test_the_pruning_job_is_registered(app):
    from app.core.jobs import job_registry

    assert "prune_operation_log" in job_registry(app)


def test_both_scope_plans_give_the_same_rows(app, tree):
    """The list reads a small tenant through its indexes and a big one by walking the ids:
    the same rows either way."""
    from app.core import scope
    from app.models import Account

    _insert(app, [_row(tree, path="/plans/a"), _row(tree, channel_id=None, enterprise_id=tree.E,
                                                   path="/plans/e"),
                  _row(tree, channel_id=tree.S, path="/plans/s")])
    with app.app_context():
        for who in (tree.a, tree.b, tree.sub, tree.s, tree.ent, tree.admin):
            principal = scope.principal_of(db.session.get(Account, who))
            query = select(OperationLog.id)
            walked = set(db.session.execute(
                scope.visible_operation_logs(query, principal)).scalars())
            indexed = set(db.session.execute(
                scope.visible_operation_logs_by_tenant(query, principal)).scalars())
            listed = set(db.session.execute(scope.visible_operation_logs_listed(
                db.session, query, principal)).scalars())
            assert walked == indexed == listed
