"""Flask-Babel's message lookups, with the request's catalogue found once per locale.

Every ``_()`` of a template and every lazy string asks Flask-Babel for the request's
translations: the domain, the locale and the catalogue cache, each through ``flask.g`` (three
context-local look-ups and a dozen calls a string, about 60 strings a list page: some 5% of
its CPU, bench/bench_list.py --profile). This domain keeps the catalogue it found in the
request's Flask-Babel namespace next to the locale it was found for, and hands it out again
while that locale stays: ``force_locale`` (a mail in its receiver's language) and
``refresh`` put another locale there, which misses and looks up afresh.
"""

from flask.globals import _cv_app
from flask_babel import Domain, get_babel

_CACHED = "ymcs_translations"


class RequestCachedDomain(Domain):
    def get_translations(self):
        app_ctx = _cv_app.get(None)
        ns = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
        locale = getattr(ns, "babel_locale", None)
        if locale is not None:
            cached = getattr(ns, _CACHED, None)
            if cached is not None and cached[0] is locale and cached[1] is self:
                return cached[2]
        translations = super().get_translations()
        ns = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
        locale = getattr(ns, "babel_locale", None)
        if locale is not None:
            setattr(ns, _CACHED, (locale, self, translations))
        return translations


def init_translations(app):
    """Flask-Babel's default domain (``babel.domain_instance``, a cached property) becomes a
    RequestCachedDomain over the same catalogues."""
    with app.app_context():
        instance = get_babel().instance
        instance.domain_instance = RequestCachedDomain(domain=instance.domain)
