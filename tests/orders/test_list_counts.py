"""The order and statement lists' counts over HTTP: a list both searched and filtered in a big
scope counts up to LIST_SEARCH_COUNT_CAP and says "more than" it; other lists keep
LIST_COUNT_CAP; a small scope always gets the exact number. Small caps stand in for the
real ones (10,000 and 1,000)."""

import re
import uuid

import pytest

from app.extensions import db
from app.models import OrderStatus

from ..helpers import new_order, new_package

COUNT_CAP, SEARCH_CAP = 5, 2


@pytest.fixture
def shops(app, fresh_tree, monkeypatch):
    """C's enterprise E: 5 pending orders and 1 effective of a reseller named for this test,
    and 2 effective of another (8 in C's scope: big, over COUNT_CAP); the sibling tree's SE:
    3 pending of the same reseller (S's scope: small)."""
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", COUNT_CAP)
    monkeypatch.setitem(app.config, "LIST_SEARCH_COUNT_CAP", SEARCH_CAP)
    t = fresh_tree
    t.word = f"Lens{uuid.uuid4().hex[:8]}"
    with app.app_context():
        package = new_package(db.session)
        made = {"E": [], "SE": []}
        pending, effective = OrderStatus.pending, OrderStatus.effective
        for key, status, reseller in [("E", pending, t.word)] * 5 + [
                ("E", effective, t.word), ("E", effective, "Other"), ("E", effective, "Other"),
                ("SE", pending, t.word), ("SE", pending, t.word), ("SE", pending, t.word)]:
            made[key].append(new_order(db.session, getattr(t, key), package=package,
                                       status=status, reseller=f"{reseller} Resale").id)
        db.session.commit()
    t.e_orders, t.se_orders = made["E"], made["SE"]
    return t


def _count_text(body):
    match = re.search(r'class="ymcs-count[^"]*">\s*(.*?)\s*</span>', body, re.S)
    assert match, "no count on the page"
    return match.group(1)


def _ids(body):
    return {int(pk) for pk in re.findall(r'/ordermodelview/show/(\d+)"', body)}


def test_a_searched_and_filtered_big_list_says_more_than_the_search_cap(login, shops):
    t = shops
    c = login(t.c_email, t.password)
    body = c.get(f"/ordermodelview/list/?q={t.word}&status=pending").get_data(as_text=True)
    assert _count_text(body) == f"More than {SEARCH_CAP} results"
    assert _ids(body) == set(t.e_orders[:5])  # every match is listed all the same
    # Searched only, or filtered only: the list's own cap.
    body = c.get(f"/ordermodelview/list/?q={t.word}").get_data(as_text=True)
    assert _count_text(body) == f"More than {COUNT_CAP} results"
    body = c.get("/ordermodelview/list/?status=effective").get_data(as_text=True)
    assert _count_text(body) == "3 results"
    # Under the search cap, the exact number.
    body = c.get(f"/ordermodelview/list/?q={t.word}&status=effective").get_data(as_text=True)
    assert _count_text(body) == "1 result"
    assert _ids(body) == {t.e_orders[5]}


def test_the_statement_list_says_more_than_the_search_cap_too(login, shops):
    t = shops
    enterprise = login(t.c_email, t.password).get(
        f"/statementmodelview/list/?q={t.prefix}&status=pending").get_data(as_text=True)
    # Statements match the enterprise's name: C's subtree has E's 5 pending orders.
    assert _count_text(enterprise) == f"More than {SEARCH_CAP} results"
    assert all(f'/statementmodelview/show/{pk}"' in enterprise for pk in t.e_orders[:5])
    assert f'/statementmodelview/show/{t.se_orders[0]}"' not in enterprise


def test_a_small_scope_always_gets_the_exact_number(login, shops):
    t = shops
    body = login(t.s_email, t.password).get(
        f"/ordermodelview/list/?q={t.word}&status=pending").get_data(as_text=True)
    assert _count_text(body) == "3 results"
    assert _ids(body) == set(t.se_orders)
