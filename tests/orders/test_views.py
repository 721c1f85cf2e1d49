"""Order Management and Statement Management over HTTP: scope (another tree's ids), the Add
Order steps with bad input, cancelling, criteria, cursors and the vendor's settings."""

import datetime
import re
import uuid

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ExportJob,
    Order,
    OrderEvent,
    OrderLimit,
    OrderStatus,
    OutboxMessage,
    Package,
)
from app.orders.rules import today

from ..helpers import new_order, new_package

TODAY = today()


def _days(n):
    return TODAY + datetime.timedelta(days=n)


def _status(app, order_id):
    with app.app_context():
        return db.session.get(Order, order_id).status


def _count(app, model, *where):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)
                                  ).scalar_one()


def _list_ids(body):
    return {int(pk) for pk in re.findall(r'/ordermodelview/show/(\d+)"', body)}


@pytest.fixture(autouse=True)
def _forget_order_mail(app):
    """Order mail queued here goes nowhere: drop it, so tests that send the shared outbox's
    oldest mail (at most 100 a call) still reach their own."""
    with app.app_context():
        last = db.session.execute(select(func.max(OutboxMessage.id))).scalar() or 0
    yield
    with app.app_context():
        db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.id > last))
        db.session.commit()


@pytest.fixture
def orders_tree(app, fresh_tree):
    """A fresh tree with a pending order on E (under C) and one on SE (the sibling tree)."""
    with app.app_context():
        t = fresh_tree
        t.e_order = new_order(db.session, t.E, effective_on=_days(10)).id
        t.se_order = new_order(db.session, t.SE, effective_on=_days(10)).id
        t.effective = new_order(db.session, t.E, effective_on=_days(-5)).id
        t.package = new_package(db.session).id
        db.session.commit()
    return t


# --- scope -----------------------------------------------------------------------------------


def test_list_shows_the_subtree_orders_and_never_another_tree(app, login, orders_tree):
    t = orders_tree
    a = login(t.a_email, t.password)
    for q in (t.e_order, t.se_order, t.prefix):
        body = a.get(f"/ordermodelview/list/?q={q}").get_data(as_text=True)
        assert t.se_order not in _list_ids(body)
    assert t.e_order in _list_ids(a.get(f"/ordermodelview/list/?q={t.e_order}").get_data(
        as_text=True))
    s = login(t.s_email, t.password)
    ids = _list_ids(s.get(f"/ordermodelview/list/?q={t.prefix}").get_data(as_text=True))
    assert t.se_order in ids and t.e_order not in ids


@pytest.mark.parametrize("view", ["ordermodelview", "statementmodelview"])
def test_details_of_another_tree_or_garbage_answer_404(login, orders_tree, view):
    t = orders_tree
    s = login(t.s_email, t.password)
    assert s.get(f"/{view}/show/{t.e_order}").status_code == 404
    assert s.get(f"/{view}/show/{t.se_order}").status_code == 200
    for garbage in ("abc", "0", "-1", "99999999999999999999999"):
        assert s.get(f"/{view}/show/{garbage}").status_code == 404


def test_sub_account_sees_only_its_granted_subtree(app, login, orders_tree):
    from app.models import Enterprise

    t = orders_tree
    with app.app_context():
        a_own = db.session.execute(select(Enterprise.id).where(
            Enterprise.channel_id == t.A, Enterprise.is_channel_own.is_(True))).scalar_one()
        a_order = new_order(db.session, a_own, effective_on=_days(10)).id
        db.session.commit()
    sub = login(t.sub_email, t.password)  # granted B's subtree, not A itself
    assert sub.get(f"/ordermodelview/show/{t.e_order}").status_code == 200
    assert sub.get(f"/ordermodelview/show/{a_order}").status_code == 404
    assert sub.get(f"/ordermodelview/show/{t.se_order}").status_code == 404
    a = login(t.a_email, t.password)
    assert a.get(f"/ordermodelview/show/{a_order}").status_code == 200


def test_enterprise_admin_has_no_order_screens(login, orders_tree):
    t = orders_tree
    ent = login(t.ent_email, t.password)
    for url in ("/ordermodelview/list/", "/statementmodelview/list/", "/ordermodelview/add",
                f"/ordermodelview/show/{t.e_order}"):
        assert ent.get(url).status_code in (302, 403), url


def test_enterprise_search_box_lists_only_enterprises_in_scope(login, orders_tree):
    t = orders_tree
    a = login(t.a_email, t.password)
    names = [r["text"] for r in a.get(
        f"/ordermodelview/enterprises?q={t.prefix}").get_json()["results"]]
    assert f"{t.prefix}-E" in names and f"{t.prefix}-SE" not in names
    s = login(t.s_email, t.password)
    names = [r["text"] for r in s.get(
        f"/ordermodelview/enterprises?q={t.prefix}").get_json()["results"]]
    assert names and all(n.startswith(f"{t.prefix}-S") for n in names)


# --- cancelling ------------------------------------------------------------------------------


def test_cancel_a_pending_order(app, login, orders_tree):
    t = orders_tree
    c = login(t.c_email, t.password)
    page = c.get(f"/ordermodelview/show/{t.e_order}").get_data(as_text=True)
    assert 'id="cancel-order"' in page
    response = c.post(f"/ordermodelview/action/cancel/{t.e_order}", follow_redirects=True)
    assert "was cancelled" in response.get_data(as_text=True)
    assert _status(app, t.e_order) == OrderStatus.cancelled
    assert _count(app, OrderEvent, OrderEvent.order_id == t.e_order,
                  OrderEvent.event == "cancelled") == 1


def test_cancelling_another_trees_order_is_404_and_changes_nothing(app, login, orders_tree):
    t = orders_tree
    s = login(t.s_email, t.password)
    assert s.post(f"/ordermodelview/action/cancel/{t.e_order}").status_code == 404
    assert s.post("/ordermodelview/action_post",
                  data={"action": "cancel", "rowid": [t.se_order, t.e_order]}
                  ).status_code in (400, 404)
    assert _status(app, t.e_order) == OrderStatus.pending
    assert _status(app, t.se_order) == OrderStatus.pending


def test_an_effective_order_cannot_be_cancelled_even_by_a_forged_post(app, login, orders_tree):
    t = orders_tree
    c = login(t.c_email, t.password)
    page = c.get(f"/ordermodelview/show/{t.effective}").get_data(as_text=True)
    assert 'id="cancel-order"' not in page
    assert "effective orders cannot be cancelled" in page
    response = c.post(f"/ordermodelview/action/cancel/{t.effective}", follow_redirects=True)
    assert "effective orders cannot be cancelled" in response.get_data(as_text=True)
    assert _status(app, t.effective) == OrderStatus.effective


def test_cancel_never_happens_on_a_get(app, login, orders_tree):
    t = orders_tree
    c = login(t.c_email, t.password)
    assert c.get(f"/ordermodelview/action/cancel/{t.e_order}").status_code == 405
    assert _status(app, t.e_order) == OrderStatus.pending


# --- Add Order -------------------------------------------------------------------------------


def _step(browser, step, **values):
    return browser.post("/ordermodelview/add", data={"step": step, **values})


def _valid(t, **overrides):
    values = {"enterprise_id": t.E, "reseller": "Shop One", "package_id": t.package,
              "quantity": "3", "duration_months": "6",
              "effective_on": (TODAY + datetime.timedelta(days=3)).isoformat()}
    return {**values, **overrides}


def test_add_order_in_two_steps_then_ok_places_it_and_mails_the_enterprise(app, login,
                                                                         orders_tree):
    t = orders_tree
    c = login(t.c_email, t.password)
    assert c.get("/ordermodelview/add").status_code == 200
    values = _valid(t)
    step2 = _step(c, "1", enterprise_id=t.E, reseller="Shop One")
    assert step2.status_code == 200 and 'id="order-step2"' in step2.get_data(as_text=True)
    confirm = _step(c, "2", **values).get_data(as_text=True)
    assert 'id="order-confirm"' in confirm and "30" in confirm  # 3 × 10 devices
    key = re.search(r'name="request_key" value="([0-9a-f]{32})"', confirm).group(1)
    placed = _step(c, "3", **values, request_key=key)
    assert placed.status_code == 302
    order_id = int(placed.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.enterprise_id, order.channel_id, order.max_devices, order.status) == (
            t.E, t.C, 30, OrderStatus.pending)
        # six months as people count them: the same day six months on (or the month's end)
        assert order.expires_on == order.effective_on + relativedelta(months=6)
        mail = db.session.execute(select(OutboxMessage).where(
            OutboxMessage.subject == f"YMCS: order {order_id}")).scalar_one()
        assert mail.recipient == f"e@{t.prefix}.test"
    # A double-clicked OK (the same confirmation twice) places no second order.
    assert _step(c, "3", **values, request_key=key).status_code == 302
    assert _count(app, Order, Order.request_key == key) == 1


def test_a_forged_enterprise_of_another_tree_is_refused_and_nothing_is_stored(app, login,
                                                                             orders_tree):
    t = orders_tree
    c = login(t.c_email, t.password)
    before = _count(app, Order)
    for step in ("1", "2", "3"):
        response = _step(c, step, **_valid(t, enterprise_id=t.SE))
        assert response.status_code == 400
        assert "Choose one of your enterprises." in response.get_data(as_text=True)
    assert _count(app, Order) == before


@pytest.mark.parametrize("overrides, message", [
    ({"quantity": "0"}, "The quantity is a whole number"),
    ({"quantity": str(10**9)}, "The quantity is a whole number"),
    ({"quantity": "three"}, "The quantity is a whole number"),
    ({"duration_months": "0"}, "The duration is a whole number"),
    ({"effective_on": (TODAY - datetime.timedelta(days=1)).isoformat()},
     "cannot be in the past"),
    ({"effective_on": "9999-01-01"}, "at most a year ahead"),
    ({"effective_on": "26/11/2026"}, "is not a date"),
    ({"package_id": "999999999"}, "Choose one of the offered packages."),
    ({"reseller": "   "}, "Enter the reseller name."),
    ({"reseller": "x" * 129}, "at most 128 characters"),
])
def test_bad_order_values_get_a_clear_message_and_store_nothing(app, login, orders_tree,
                                                                overrides, message):
    t = orders_tree
    c = login(t.c_email, t.password)
    before = (_count(app, Order), _count(app, OutboxMessage))
    for step in ("2", "3"):
        response = _step(c, step, **_valid(t, **overrides), request_key=uuid.uuid4().hex)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert (_count(app, Order), _count(app, OutboxMessage)) == before


def test_a_channel_at_its_limit_is_told_to_contact_the_vendor(app, login, orders_tree):
    t = orders_tree
    with app.app_context():
        db.session.add(OrderLimit(channel_id=t.C, max_open_orders=2))  # C has two open orders
        db.session.commit()
    c = login(t.c_email, t.password)
    assert "Contact Yealink" in c.get("/ordermodelview/add").get_data(as_text=True)
    before = _count(app, Order)
    response = _step(c, "3", **_valid(t), request_key=uuid.uuid4().hex)
    assert response.status_code == 400 and "Contact Yealink" in response.get_data(as_text=True)
    assert _count(app, Order) == before
    # Cancelling one frees a place.
    c.post(f"/ordermodelview/action/cancel/{t.e_order}")
    assert _step(c, "3", **_valid(t), request_key=uuid.uuid4().hex).status_code == 302


# --- criteria, sorting, cursors --------------------------------------------------------------


def test_status_and_date_filters(login, orders_tree):
    t = orders_tree
    c = login(t.c_email, t.password)

    def ids(query):
        return _list_ids(c.get(f"/ordermodelview/list/?{query}").get_data(as_text=True))

    assert ids("status=pending") == {t.e_order}
    assert ids("status=effective") == {t.effective}
    # it runs for 12 months: the list shows (and searches) its last day of service
    day = (_days(-5) + relativedelta(years=1, days=-1)).isoformat()
    assert ids(f"expires_from={day}&expires_to={day}") == {t.effective}
    assert ids(f"ordered_from={TODAY.isoformat()}") == {t.e_order, t.effective}
    assert ids("ordered_to=2000-01-01") == set()


def test_an_end_date_before_the_start_date_is_explained_and_not_applied(app, login,
                                                                        orders_tree):
    t = orders_tree
    c = login(t.c_email, t.password)
    body = c.get("/ordermodelview/list/?expires_from=2030-01-01&expires_to=2029-01-01"
                 ).get_data(as_text=True)
    assert "The end date is before the start date." in body
    assert _list_ids(body) == {t.e_order, t.effective}
    jobs = _count(app, ExportJob)
    response = c.post("/ordermodelview/export",
                      data={"ordered_from": "2030-01-01", "ordered_to": "2029-01-01"},
                      follow_redirects=True)
    assert "The end date is before the start date." in response.get_data(as_text=True)
    assert _count(app, ExportJob) == jobs


def test_sorting_by_duration_and_expiry_pages_by_cursor(app, login, fresh_tree):
    t = fresh_tree
    with app.app_context():
        package = new_package(db.session)
        made = [new_order(db.session, t.E, effective_on=_days(d), months=m, package=package).id
                for d, m in ((3, 24), (4, 6), (5, 12), (6, 6))]
        db.session.commit()
    c = login(t.c_email, t.password)
    for sort, expected in (
        ("duration_months", [made[1], made[3], made[2], made[0]]),
        ("expires_on", [made[1], made[3], made[2], made[0]]),
    ):
        seen = []
        url = f"/ordermodelview/list/?sort={sort}&dir=asc&psize=2"
        while url:
            body = c.get(url).get_data(as_text=True)
            seen += [int(pk) for pk in re.findall(r'/ordermodelview/show/(\d+)"', body)]
            nxt = re.search(r'href="([^"]+)" rel="next"', body)
            url = nxt.group(1).replace("&amp;", "&") if nxt else None
        assert seen == expected, sort
    assert c.get("/ordermodelview/list/?sort=expires_on&after=bm90LWpzb24").status_code == 400


def test_statements_show_content_and_search_by_enterprise(login, orders_tree):
    t = orders_tree
    c = login(t.c_email, t.password)
    body = c.get(f"/statementmodelview/list/?q={t.prefix}-E").get_data(as_text=True)
    assert f"/statementmodelview/show/{t.e_order}" in body
    assert "× 1 (10 devices)" in body
    assert f"/statementmodelview/show/{t.se_order}" not in body


# --- the vendor's settings -------------------------------------------------------------------


def test_channels_cannot_reach_the_vendors_settings(login, orders_tree):
    t = orders_tree
    a = login(t.a_email, t.password)
    assert a.get("/packagemodelview/list/").status_code == 403
    assert a.get("/orderlimitmodelview/list/").status_code == 403


def test_a_sold_package_cannot_be_deleted(app, login, orders_tree):
    t = orders_tree
    with app.app_context():
        sold = db.session.get(Order, t.e_order).package_id
    admin = login(t.admin_email, t.password)
    response = admin.post(f"/packagemodelview/delete/{sold}", follow_redirects=True)
    assert "stop offering it instead" in response.get_data(as_text=True)
    assert _count(app, Package, Package.id == sold) == 1


def test_a_statement_export_keeps_the_lists_default_order_by_order_time(app, login, fresh_tree,
                                                                       tmp_path, monkeypatch):
    import io

    from openpyxl import load_workbook

    t = fresh_tree
    with app.app_context():
        package = new_package(db.session)
        newer = new_order(db.session, t.E, effective_on=_days(10), package=package).id
        older = new_order(db.session, t.E, effective_on=_days(10), package=package)
        older.created_on -= datetime.timedelta(days=3)  # a higher id, placed earlier
        db.session.commit()
        older = older.id
    monkeypatch.setitem(app.config, "FILE_STORE_DIR", str(tmp_path))
    c = login(t.c_email, t.password)
    listed = [int(pk) for pk in re.findall(
        r'/statementmodelview/show/(\d+)"',
        c.get(f"/statementmodelview/list/?q={t.prefix}").get_data(as_text=True))]
    assert listed == [newer, older]
    page = c.post("/statementmodelview/export", data={"q": t.prefix})
    job_id = int(page.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    data = c.get(f"/exports/{job_id}/download").get_data()
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    exported = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert exported == listed
