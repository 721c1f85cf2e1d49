"""The top menu, rendered once per (permission set, language, menu conditions), the top bar's
language and account menus, once per (user, language), and the layout's stylesheet and script
tags, once per process.

FAB re-renders the whole menu on every page: a macro call, a translation and a permission
check per item (about a sixth of a list page's time, measured in bench/). Its output
depends only on what the key holds, so it is kept in a small per-process cache; a permission
revoked in the role screens changes the key at the next request.
"""

from functools import lru_cache

from flask import current_app, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape


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


# FAB's init.html: the same tags, in the same order (its nonce macro prints nothing: no CSP
# nonce is defined here). 23 url_for calls and 7 macro calls per page, each page the same.
_CSS = ("css/bootstrap.min.css", "css/fontawesome/fontawesome.min.css",
        "css/fontawesome/regular.min.css", "css/fontawesome/solid.min.css",
        "css/fontawesome/brands.min.css", "css/fontawesome/v4-shims.min.css")
_CSS_AFTER_THEME = ("css/bootstrap-datepicker/bootstrap-datepicker3.min.css",
                    "css/select2/select2.min.css", "css/select2/select2-bootstrap.min.css",
                    "css/flags/flags16.css", "css/ab.css")
_HEAD_JS = ("js/jquery-latest.js", "js/ab_filters.js", "js/ab_actions.js")
_TAIL_JS = ("js/bootstrap.min.js", "js/bootstrap-datepicker/bootstrap-datepicker.min.js",
            "js/select2/select2.min.js", "js/ab.js")


@lru_cache(maxsize=16)
def _layout_tags(app_id, script_root, part):
    def static(name):
        return url_for("appbuilder.static", filename=name)

    if part == "css":
        theme = current_app.appbuilder.app_theme
        files = (*_CSS, *((f"css/themes/{theme}",) if theme else ()), *_CSS_AFTER_THEME)
        tags = [f'<link href="{static(f)}" rel="stylesheet">' for f in files]
        tags.append(f'<link rel="icon" type="image/svg+xml" href="'
                    f'{url_for("static", filename="favicon.svg")}">')
    else:
        tags = [f'<script src="{static(f)}" nonce=""></script>'
                for f in (_HEAD_JS if part == "head_js" else _TAIL_JS)]
    return Markup("\n".join(tags))


def layout_tags(part):
    """"css", "head_js" or "tail_js" of the page layout, rendered once per process."""
    return _layout_tags(id(current_app._get_current_object()), request.script_root, part)


# The top bar's language and account menus hold the user's login and language and the Exit
# form's CSRF token, which changes on every request: rendered with this in its place.
_CSRF_PLACEHOLDER = "\x00ymcs-csrf\x00"


@lru_cache(maxsize=1024)
def _account_menus(app_id, script_root, babel_locale, locale, email, anonymous):
    appbuilder = current_app.appbuilder
    return render_template("appbuilder/_account_menus.html", appbuilder=appbuilder,
                           languages=appbuilder.languages, locale=locale,
                           csrf_placeholder=_CSRF_PLACEHOLDER)


def account_menus():
    """The language and account menus of the top bar, rendered once per user and language
    (about 5% of a list page's CPU when rendered on every page)."""
    anonymous = current_user.is_anonymous
    html = _account_menus(id(current_app._get_current_object()), request.script_root,
                          str(get_locale()), session.get("locale") or "en",
                          None if anonymous else current_user.email, anonymous)
    if _CSRF_PLACEHOLDER in html:
        html = html.replace(_CSRF_PLACEHOLDER, str(escape(generate_csrf())))
    return Markup(html)


def init_menu_cache(app):
    app.jinja_env.globals["ymcs_menu_html"] = menu_html
    app.jinja_env.globals["ymcs_layout_tags"] = layout_tags
    app.jinja_env.globals["ymcs_account_menus"] = account_menus
