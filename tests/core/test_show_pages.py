"""Every FAB show page reads like its list: labels, translated values, times to the minute,
only the actions that apply (issue 18)."""

import re

import pytest
from sqlalchemy import select

from app.core.mail import enqueue_mail
from app.extensions import db
from app.models import Account, Enterprise, OperationLog, Status
from tests.helpers import new_package

RAW = re.compile(r">\s*(True|False|None|active|frozen|device_management|rps|pending|accepted|"
                 r"channel_master|enterprise|Status\.\w+|PermissionType\.\w+)\s*<")
MICROSECONDS = re.compile(r"\d\d:\d\d:\d\d\.\d+")


def _detail(html):
    """The page's detail table and action bar (not the menus, which say "Enterprise")."""
    start = html.find('<table class="table table-bordered">')
    if start < 0:  # the outbox shows a message as its recipient reads it
        start = html.find('id="outbox-message"')
    assert start > 0, "no detail table"
    end = html.find("lnk_back", start)
    return html[start:] if end < 0 else html[start:end]


def assert_readable(html):
    detail = _detail(html)
    assert not RAW.search(detail), RAW.search(detail).group(0)
    assert not MICROSECONDS.search(detail)
    assert "Is Channel Own" not in html and "__None" not in html


def test_enterprise_show_page_reads_like_the_list(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    html = browser.get(f"/enterprisemodelview/show/{fresh_tree.E}").get_data(as_text=True)
    assert_readable(html)
    assert "Device Management" in html and "Authorized" in html
    assert "Generated for the channel" in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d<", html)  # created, to the minute
    # active: Freeze, not Unfreeze
    assert "btn-action-EnterpriseModelView.action-freeze" in html
    assert "btn-action-EnterpriseModelView.action-unfreeze" not in html
    with app.app_context():
        db.session.get(Enterprise, fresh_tree.E).status = Status.frozen
        db.session.commit()
    html = browser.get(f"/enterprisemodelview/show/{fresh_tree.E}").get_data(as_text=True)
    assert "btn-action-EnterpriseModelView.action-unfreeze" in html
    assert "btn-action-EnterpriseModelView.action-freeze\"" not in html
    assert 'label-default ymcs-badge">Frozen<' in html


def test_channel_show_page_reads_like_the_list(app, tree, login):
    browser = login(tree.a_email, tree.password)
    html = browser.get(f"/channelmodelview/show/{tree.B}").get_data(as_text=True)
    assert_readable(html)
    assert 'label-success ymcs-badge">Active<' in html and ">std-A<" in html
    assert "btn-action-ChannelModelView.action-unfreeze" not in html
    # and another tree's channel is still 404
    assert browser.get(f"/channelmodelview/show/{tree.S}").status_code == 404


def test_rps_and_system_show_pages_are_readable(app, tree, login):
    browser = login(tree.admin_email, tree.password)
    with app.app_context():
        log_id = db.session.execute(select(OperationLog.id).limit(1)).scalar()
        mail = enqueue_mail(db.session, tree.a_email, "YMCS: a message", "Hello")
        db.session.flush()
        mail_id = mail.id
        account_id = db.session.execute(select(Account.id).where(
            Account.username == tree.a_email)).scalar()
        package_id = new_package(db.session).id
        db.session.commit()
    urls = [f"/users/show/{account_id}", f"/packagemodelview/show/{package_id}"]
    if log_id:
        urls.append(f"/operationlogmodelview/show/{log_id}")
    urls.append(f"/outboxmodelview/show/{mail_id}")
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert_readable(response.get_data(as_text=True))
    html = browser.get(f"/users/show/{account_id}").get_data(as_text=True)
    assert "Channel administrator" in html and ">std-A<" in html


@pytest.mark.parametrize("url", ["/enterprisemodelview/show/{SE}", "/channelmodelview/show/{S}"])
def test_show_pages_of_another_tree_are_404(app, tree, login, url):
    browser = login(tree.b_email, tree.password)
    assert browser.get(url.format(**vars(tree))).status_code == 404
