"""The top menu, rendered once per (permission set, language, menu conditions).

FAB re-renders the whole menu on every page: a macro call, a translation and a permission
check per item (about a sixth of a list page's time, measured in bench/). Its output
depends only on what the key holds, so it is kept in a small per-process cache; a permission
revoked in the role screens changes the key at the next request.
"""

from functools import lru_cache

from flask import current_app, render_template
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup


def _conditions(menu):
    """The results of every menu_cond, in menu order: they belong in the key."""
    results = []
    for item in menu.get_list():
        for child in [item, *item.childs]:
            if child and child.cond is not None:
                results.append(bool(child.cond()))
    return tuple(results)


@lru_cache(maxsize=256)
def _rendered(app_id, permissions, locale, conditions):
    return Markup(render_template("menu_items.html", menu=current_app.appbuilder.menu))


def menu_html():
    appbuilder = current_app.appbuilder
    if not current_user.is_authenticated:
        return Markup(render_template("menu_items.html", menu=appbuilder.menu))
    permissions = appbuilder.sm._permission_set(current_user)
    return _rendered(id(current_app._get_current_object()), permissions, str(get_locale()),
                     _conditions(appbuilder.menu))


def init_menu_cache(app):
    app.jinja_env.globals["ymcs_menu_html"] = menu_html
