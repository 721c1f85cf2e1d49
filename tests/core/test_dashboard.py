"""The landing page counts only what the principal's scope holds."""

import re

from app.core import scope
from app.core.dashboard import scoped_counts
from app.models import Account


def test_counts_follow_the_scope(db_session, tree):
    c = scoped_counts(db_session, scope.principal_of(db_session.get(Account, tree.c)))
    # C sees E and R (ER rejected the authorization), two devices each; no sub-channels
    assert c["devices"] == 4 and c["channels"] == 0
    assert c["enterprises"] == 4  # C's own, E, ER, R
    s = scoped_counts(db_session, scope.principal_of(db_session.get(Account, tree.s)))
    assert s["devices"] == 2 and s["enterprises"] == 2


def test_dashboard_page_shows_the_scoped_counts(app, tree, login):
    page = login(tree.s_email, tree.password).get("/").get_data(as_text=True)
    stats = dict(re.findall(r'data-stat="(\w+)"[^>]*>([\d,]+)<', page))
    assert stats["devices"] == "2" and stats["enterprises"] == "2"


def test_anonymous_landing_goes_to_login(app):
    response = app.test_client().get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
