"""The list machinery: keyset pages in every sort order, both directions, capped page sizes
and counts, tampered cursors — through the device list, as a user pages through it."""

import html
import re
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Device, Enterprise
from app.tenancy import rules as tenants

from ..conftest import ids_of
from ..tree import build_tree

MODELS = ["T54W", "T46U", "T54W", "CP965", "T33G", "T46U", "W70B"]


@pytest.fixture(scope="module")
def tree(app):
    """A tree of this module's own: the tests below add channels and devices to it, which
    the shared standard tree must not see."""
    with app.app_context():
        return ids_of(build_tree(db.session, f"ls{uuid.uuid4().hex[:6]}"))


@pytest.fixture(scope="module")
def fleet(app, tree):
    """Seven devices of one new enterprise under C, with repeated models (ties)."""
    with app.app_context():
        prefix = uuid.uuid4().hex[:6]
        enterprise = Enterprise(name=f"fleet-{prefix}", channel_id=tree.C,
                                email=f"fleet@{prefix}.test")
        db.session.add(enterprise)
        db.session.flush()
        for n, model in enumerate(MODELS):
            db.session.add(Device(mac=f"0a{prefix}{n:04x}", model=model,
                                  enterprise_id=enterprise.id))
        db.session.commit()
        rows = db.session.execute(select(Device.id, Device.mac, Device.model).where(
            Device.enterprise_id == enterprise.id)).all()
        return enterprise.name, rows


def _macs(page):
    # listed with separators (00:15:65:…); compared bare, as stored
    return [m.replace(":", "") for m in re.findall(
        r'/devicemodelview/show/\d+">((?:[0-9a-f]{2}:){5}[0-9a-f]{2})<', page)]


def _link(page, rel):
    match = re.search(rf'href="([^"#]+)" rel="{rel}"', page)
    return html.unescape(match.group(1)) if match else None


def _walk(browser, url, rel):
    """Every MAC met following `rel` links from url, page by page."""
    seen, pages = [], 0
    while url:
        page = browser.get(url).get_data(as_text=True)
        got = _macs(page)
        seen = seen + got if rel == "next" else got + seen
        url, pages = _link(page, rel), pages + 1
        assert pages < 20, "the pager never ends"
    return seen


@pytest.mark.parametrize("sort, desc", [("id", True), ("id", False), ("mac", False),
                                        ("mac", True), ("model", False), ("model", True)])
def test_pages_cover_every_row_once_in_order_both_ways(app, tree, login, fleet, sort, desc):
    name, rows = fleet
    key = {"id": lambda r: r.id, "mac": lambda r: r.mac, "model": lambda r: (r.model, r.id)}
    expected = [r.mac for r in sorted(rows, key=key[sort], reverse=desc)]
    browser = login(tree.c_email, tree.password)
    base = (f"/devicemodelview/list/?q=0a{rows[0].mac[2:8]}&psize=2&sort={sort}"
            f"&dir={'desc' if desc else 'asc'}")
    assert _walk(browser, base, "next") == expected
    assert _walk(browser, base + "&last=1", "prev") == expected


def test_page_size_is_capped_and_garbage_falls_back(app, tree, login, fleet):
    browser = login(tree.c_email, tree.password)
    q = f"?q=0a{fleet[1][0].mac[2:8]}"
    assert len(_macs(browser.get(f"/devicemodelview/list/{q}&psize=3").get_data(
        as_text=True))) == 3
    for bad in ("x", "-5", "100000000000000000000"):
        response = browser.get(f"/devicemodelview/list/{q}&psize={bad}")
        assert response.status_code == 200 and len(_macs(response.get_data(as_text=True))) <= 7
    app.config["LIST_MAX_PAGE_SIZE"], before = 4, app.config["LIST_MAX_PAGE_SIZE"]
    try:
        assert len(_macs(browser.get(f"/devicemodelview/list/{q}&psize=100000").get_data(
            as_text=True))) == 4
    finally:
        app.config["LIST_MAX_PAGE_SIZE"] = before


@pytest.mark.parametrize("cursor", ["garbage", "WyJ4IiwgIm5vdC1hbi1pZCJd", "e30", "%00"])
def test_tampered_cursor_is_400(app, tree, login, cursor):
    response = login(tree.c_email, tree.password).get(
        f"/devicemodelview/list/?after={cursor}")
    assert response.status_code == 400


def test_unknown_sort_falls_back_to_the_default(app, tree, login, fleet):
    _name, rows = fleet
    browser = login(tree.c_email, tree.password)
    q = f"/devicemodelview/list/?q=0a{rows[0].mac[2:8]}"
    newest_first = [r.mac for r in sorted(rows, key=lambda r: r.id, reverse=True)]
    assert _macs(browser.get(q).get_data(as_text=True)) == newest_first  # the default
    response = browser.get(f"{q}&sort=password&dir=sideways")
    assert response.status_code == 200
    assert _macs(response.get_data(as_text=True)) == newest_first
    # a known column with an unknown direction: that column, in the default direction
    by_model = [r.mac for r in sorted(rows, key=lambda r: (r.model, r.id), reverse=True)]
    assert _macs(browser.get(f"{q}&sort=model&dir=sideways").get_data(as_text=True)) == by_model


def test_count_says_more_than_past_the_cap(app, tree, login, fleet):
    app.config["LIST_COUNT_CAP"], before = 3, app.config["LIST_COUNT_CAP"]
    try:
        page = login(tree.c_email, tree.password).get(
            f"/devicemodelview/list/?q=0a{fleet[1][0].mac[2:8]}").get_data(as_text=True)
    finally:
        app.config["LIST_COUNT_CAP"] = before
    assert "More than 3 results" in page


def test_a_channel_never_pages_into_another_tree(app, tree, login, fleet):
    browser = login(tree.s_email, tree.password)
    assert _walk(browser, f"/devicemodelview/list/?q=0a{fleet[1][0].mac[2:8]}", "next") == []


def test_channel_list_pages_too(app, tree, login):
    with app.app_context():
        prefix = uuid.uuid4().hex[:6]
        for n in range(5):
            tenants.create_channel(db.session, f"pg{prefix}-{n}",
                                   parent=db.session.get(tenants.Channel, tree.C))
        db.session.commit()
    names = _walk_names(login(tree.b_email, tree.password),
                        f"/channelmodelview/list/?q=pg{prefix}&psize=2&sort=name&dir=asc")
    assert names == [f"pg{prefix}-{n}" for n in range(5)]


def _walk_names(browser, url):
    names = []
    while url:
        page = browser.get(url).get_data(as_text=True)
        names += re.findall(r'/channelmodelview/show/\d+">([^<]+)<', page)
        url = _link(page, "next")
    return names


@pytest.mark.parametrize("cap", [2, 100])
@pytest.mark.parametrize("sort, desc", [("id", True), ("model", False), ("mac", True)])
def test_pages_are_the_same_whichever_plan_the_counts_choose(app, tree, login, fleet, cap,
                                                             sort, desc):
    """The plan of a page follows the counts: with a cap of 2 the channel's scope and the
    search are "big" (index hints, the ordered walk), with 100 they are small (ids first,
    then the rows). Filtered or not, the pages hold the same rows in the same order."""
    name, rows = fleet
    key = {"id": lambda r: r.id, "mac": lambda r: r.mac, "model": lambda r: (r.model, r.id)}
    expected = [r.mac for r in sorted(rows, key=key[sort], reverse=desc)]
    app.config["LIST_COUNT_CAP"], before = cap, app.config["LIST_COUNT_CAP"]
    try:
        browser = login(tree.c_email, tree.password)
        base = (f"/devicemodelview/list/?q=0a{rows[0].mac[2:8]}&psize=2&sort={sort}"
                f"&dir={'desc' if desc else 'asc'}")
        for url in (base, base + "&online=0"):
            assert _walk(browser, url, "next") == expected
            assert _walk(browser, url + "&last=1", "prev") == expected
        assert _walk(browser, base + "&online=1", "next") == []
    finally:
        app.config["LIST_COUNT_CAP"] = before
