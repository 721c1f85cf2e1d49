"""The request's catalogue is found once per locale (app/core/translations.py): a switch of
language inside a request (a mail in its receiver's language) still gets that language, and
the request's own language after it."""

from flask import render_template_string
from flask_babel import force_locale, gettext, lazy_gettext, refresh

from app.core.translations import RequestCachedDomain


def test_a_request_switching_language_gets_each_language(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        from flask_babel import get_domain

        assert isinstance(get_domain(), RequestCachedDomain)
        assert gettext("Search") == "Search"
        assert render_template_string("{{ _('Search') }}") == "Search"
        with force_locale("zh"):
            chinese = gettext("Search")
            assert chinese != "Search" and str(lazy_gettext("Search")) == chinese
            assert render_template_string("{{ _('Search') }}") == chinese
        assert gettext("Search") == "Search" and str(lazy_gettext("Search")) == "Search"
        refresh()
        assert gettext("Search") == "Search"
