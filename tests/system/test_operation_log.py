"""The Operation Log: readable names, filters (time, operation type, path, user, result),
scope (another tree's rows never show), read-only, and the retention job."""

import datetime

import pytest
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


@pytest.mark.parametrize("plan", ["streams", "id lists", "scope tested"])
def test_every_page_plan_gives_the_rows_in_order(app, tree, plan, monkeypatch):
    """app/system/oplog_page.py reads a page as index streams per tenant (few tenants), as
    the tenants' id lists (many, with few rows) or with the scope tested on the rows walked
    (many rows): every plan gives exactly the rows of the scope and criteria, newest first,
    page after page, forwards and backwards."""
    from app.core import scope
    from app.core.listing import like_pattern
    from app.models import Account
    from app.system import oplog_page
    from app.system.queries import LogCriteria, apply_log_criteria

    if plan != "streams":
        monkeypatch.setattr(oplog_page, "MAX_STREAMS", 0)
    big = plan == "scope tested"
    ops = ["YmcsAuthDBView.login", "AuthDBView.login", "EnterpriseModelView.add"]
    tenants = [dict(channel_id=c, enterprise_id=None) for c in (tree.A, tree.B, tree.C, tree.S)]
    tenants += [dict(channel_id=None, enterprise_id=e) for e in (tree.E, tree.EB, tree.SE)]
    _insert(app, [_row(tree, username=f"u{n % 4}@plans.test", operation=ops[n % 3],
                       result="failure" if n % 5 == 0 else "success", path=f"/plans/{n}",
                       **tenants[n % len(tenants)]) for n in range(70)])
    # (criteria, login prefix): only this test's rows (the admin sees every test's)
    every = "/plans/"
    cases = [(LogCriteria(path=every), ""), (LogCriteria(path=every, op="login"), ""),
             (LogCriteria(path=every, result="failure"), ""),
             (LogCriteria(path=every, user="u1@plans.test"), ""),
             (LogCriteria(path=every, op="login", result="failure"), ""),
             (LogCriteria(path=every), "u2@"), (LogCriteria(path="/plans/1"), ""),
             # (an end today would meet the row another test dates 40 days ahead, out of the
             # time order the log is written in, which the id range of a time range trusts)
             (LogCriteria(path=every, start=utcnow().date(),
                          end=utcnow().date() + datetime.timedelta(days=400), op="login"),
              "u")]
    with app.app_context():
        session = db.session
        for who in (tree.a, tree.b, tree.sub, tree.s, tree.ent, tree.admin):
            principal = scope.principal_of(session.get(Account, who))
            for criteria, q in cases:
                expected = scope.visible_operation_logs(select(OperationLog.id), principal)
                expected = apply_log_criteria(expected, criteria)
                if q:
                    expected = expected.where(OperationLog.username.like(like_pattern(q)))
                expected = list(session.execute(expected.order_by(
                    OperationLog.id.desc())).scalars())
                for descending in (True, False):
                    walked, cursor = [], None
                    while True:
                        ids = oplog_page.page_ids(session, principal, criteria, q, cursor,
                                                  descending, 4, lambda: big)
                        assert len(ids) <= 5 and ids == sorted(ids, reverse=descending)
                        walked += ids[:4]
                        if len(ids) <= 4:
                            break
                        cursor = ids[3]
                    assert walked == (expected if descending else expected[::-1]), (
                        who, criteria, q)
