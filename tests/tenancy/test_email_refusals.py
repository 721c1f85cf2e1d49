"""Registered emails stay unique on the whole platform, but a channel is never told that
another tree holds an address: the refusal reads exactly like the one for a malformed
address, on the same field. Only the platform administrator, who sees every tenant, is told
the address is taken."""

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, Enterprise

MALFORMED = "not-an-email"
# What the form says of a malformed address and of another tree's alike.
EMAIL_REFUSED = "This email address cannot be used. Enter another one."


def _field_errors(response):
    """The errors the form shows under its fields, as the user reads them."""
    assert response.status_code == 200, response.status_code  # the form again, not saved
    return re.findall(r'<div class="alert alert-danger">\s*(.*?)\s*</div>',
                      response.get_data(as_text=True), re.S)


def _count(app, model, **by):
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(model).filter_by(**by)).scalar()


def _other_tree(t):
    """Addresses held in the sibling tree S: its master's login, its enterprise's email."""
    return [t.s_email, f"se@{t.prefix}.test"]


def test_adding_an_enterprise_with_another_trees_email_reads_like_a_malformed_one(
        app, tree, login):
    browser = login(tree.a_email, tree.password)
    name = f"{tree.prefix}-probe"
    answers = [_field_errors(browser.post("/enterprisemodelview/add", data={
        "name": name, "channel": str(tree.A), "permission_type": "device_management",
        "has_master_admin": "y", "email": email.upper(), "country": "CN",
        "contact": "Li"}))
        for email in [*_other_tree(tree), MALFORMED]]
    assert answers == [[EMAIL_REFUSED]] * 3
    assert _count(app, Enterprise, name=name) == 0


def test_adding_a_sub_channel_with_another_trees_email_reads_like_a_malformed_one(
        app, tree, login):
    browser = login(tree.a_email, tree.password)
    name = f"{tree.prefix}-probe"
    answers = [_field_errors(browser.post("/channelmodelview/add", data={
        "name": name, "email": email, "contact": "x", "country": "CN"}))
        for email in [*_other_tree(tree), MALFORMED]]
    assert answers == [[EMAIL_REFUSED]] * 3
    assert _count(app, Channel, name=name) == 0


def test_editing_to_another_trees_email_reads_like_a_malformed_one(app, tree, login):
    browser = login(tree.c_email, tree.password)
    answers = [_field_errors(browser.post(f"/enterprisemodelview/edit/{tree.ER}", data={
        "name": f"{tree.prefix}-ER", "email": email, "contact": "x", "country": "CN"}))
        for email in [*_other_tree(tree), MALFORMED]]
    assert answers == [[EMAIL_REFUSED]] * 3
    with app.app_context():
        assert db.session.get(Enterprise, tree.ER).email == f"er@{tree.prefix}.test"


def test_the_platform_administrator_is_told_the_address_is_taken(app, tree, login):
    browser = login(tree.admin_email, tree.password)
    errors = _field_errors(browser.post("/enterprisemodelview/add", data={
        "name": f"{tree.prefix}-probe", "channel": str(tree.A),
        "permission_type": "device_management", "email": tree.s_email, "country": "CN",
        "contact": "Li"}))
    assert errors == [f"The email {tree.s_email} is already registered."]
