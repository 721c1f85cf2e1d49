"""Signing in and out, the forgotten-password flow and the account settings pages.

Views only parse input and call app/accounts/rules.py; every refusal there carries a message
template that is translated here.
"""

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, no_cache
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.accounts import challenges
from app.accounts import rules as accounts
from app.core.public_url import external_url
from app.extensions import db


def translated(error):
    return gettext(error.template, **error.params)


def _language_choices():
    return [(code, lang["name"]) for code, lang in current_app.config["LANGUAGES"].items()]


class LoginForm(FlaskForm):
    username = StringField(_l("Email"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    language = SelectField(_l("Language"), validators=[Optional()])


class ForgotPasswordForm(FlaskForm):
    # No syntax check: a bad address gets the same answer as an unregistered one.
    email = StringField(_l("Registered email"), validators=[DataRequired(), Length(max=320)])
    captcha = StringField(_l("Captcha"), validators=[DataRequired(), Length(max=16)])
    challenge = HiddenField(validators=[DataRequired(), Length(max=200)])


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(),
                                                                  Length(max=256)])
    repeat_password = PasswordField(_l("New password again"),
                                    validators=[DataRequired(), Length(max=256)])


class ChangePasswordForm(NewPasswordForm):
    old_password = PasswordField(_l("Old password"), validators=[DataRequired(),
                                                                  Length(max=256)])


class BasicInfoForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=64)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=64)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    language = SelectField(_l("Language"), validators=[DataRequired()])


def login_texts():
    """The login panel's words in every language, so that choosing a language switches the
    page in place, keeping what was typed (the choice reloaded the page and cleared it)."""
    texts = {}
    for code in current_app.config["LANGUAGES"]:
        with force_locale(code):
            texts[code] = {
                "title": gettext("Sign in to YMCS for Channel"), "username": gettext("Email"),
                "password": gettext("Password"), "language": gettext("Language"),
                "submit": gettext("Login"), "forgot": gettext("Forget Password"),
            }
    return texts


class YmcsAuthDBView(AuthDBView):
    login_template = "security/login.html"

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm()
        form.language.choices = [("", "")] + _language_choices()
        if request.method == "GET" and session.get("locale") != current_app.config[
                "BABEL_DEFAULT_LOCALE"]:
            # Only a language picked before signing in counts as a choice: the default one
            # left as it is must not overwrite the account's saved language.
            form.language.data = session.get("locale")
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            try:
                # remote_addr: behind a proxy, ProxyFix sets it; never X-Forwarded-For here.
                account = accounts.authenticate(db.session, form.username.data,
                                                form.password.data,
                                                address=request.remote_addr)
            except accounts.LoginRefused as refused:
                flash(translated(refused), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            if form.language.data:
                account.language = form.language.data  # the choice sticks to the account
                db.session.commit()
            session["locale"] = account.language
            login_user(account, remember=False)
            return redirect(next_url)
        return self.render_template(self.login_template, title=gettext("Sign in"), form=form,
                                    appbuilder=self.appbuilder, texts=login_texts(),
                                    shown=session.get("locale") or "en")


    @expose("/logout/", methods=["POST"])
    def logout(self):
        # POST with the CSRF token: a link on another site cannot sign anyone out.
        logout_user()
        session.pop("locale", None)
        return redirect(self.appbuilder.get_url_for_login)


class PasswordRecoveryView(BaseView):
    """'Forget Password' on the login page, and the single-use link it mails."""

    route_base = "/password"
    default_view = "forgot"

    @expose("/forgot/", methods=["GET", "POST"])
    @no_cache
    def forgot(self):
        form = ForgotPasswordForm()
        secret = current_app.config["SECRET_KEY"]
        if form.validate_on_submit():
            if not challenges.check_answer(db.session, secret, form.challenge.data,
                                           form.captcha.data):
                flash(gettext("The captcha does not match. Try the new one."), "danger")
            else:
                accounts.request_password_reset(
                    db.session, form.email.data,
                    lambda token: external_url("PasswordRecoveryView.reset", token=token))
                # The same answer whether or not the email is registered.
                flash(gettext("If this email is registered, a reset link is on its way. "
                              "It is valid for 10 minutes."), "info")
                return redirect(self.appbuilder.get_url_for_login)
        form.challenge.data = challenges.new_challenge(secret)
        form.captcha.data = ""
        return self.render_template("security/forgot.html", form=form)

    @expose("/captcha/<challenge>.png")
    def captcha(self, challenge):
        image = challenges.picture(current_app.config["SECRET_KEY"], challenge)
        if image is None:
            abort(404)
        return current_app.response_class(image, mimetype="image/png")

    @expose("/reset/<token>", methods=["GET", "POST"])
    @no_cache
    def reset(self, token):
        try:
            accounts.reset_token_row(db.session, token)
        except accounts.ResetLinkError as error:
            return self.render_template("security/reset.html", form=None,
                                        error=translated(error)), 410
        form = NewPasswordForm()  # after the check: a form's token is a session to keep
        if form.validate_on_submit():
            try:
                accounts.reset_password_with_token(db.session, token, form.new_password.data,
                                                   form.repeat_password.data)
            except accounts.AccountError as error:
                flash(translated(error), "danger")
            else:
                flash(gettext("Your password is set. Sign in with it."), "success")
                return redirect(self.appbuilder.get_url_for_login)
        return self.render_template("security/reset.html", form=form, error=None)


class AccountSettingsView(BaseView):
    """Account Settings from the account name in the top-right corner."""

    route_base = "/account"
    default_view = "settings"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def settings(self):
        account = _me()
        form = BasicInfoForm(obj=account)
        form.language.choices = _language_choices()
        if form.validate_on_submit():
            accounts.update_basic_info(db.session, account, first_name=form.first_name.data,
                                       last_name=form.last_name.data, phone=form.phone.data,
                                       language=form.language.data)
            session["locale"] = account.language
            flash(gettext("Saved."), "success")
            return redirect(url_for(".settings"))
        return self.render_template("security/account.html", form=form, account=account)

    @expose("/password", methods=["GET", "POST"])
    @has_access
    def password(self):
        account = _me()
        form = ChangePasswordForm()
        if form.validate_on_submit():
            try:
                accounts.change_password(db.session, account, form.old_password.data,
                                         form.new_password.data, form.repeat_password.data,
                                         keep_session_id=getattr(session, "sid", None))
            except accounts.AccountError as error:
                flash(translated(error), "danger")
            else:
                flash(gettext("Your password has been changed."), "success")
                return redirect(url_for(".settings"))
        return self.render_template("security/password.html", form=form,
                                    forced=account.must_change_password)


def _me():
    account = current_user._get_current_object()
    if not account.is_authenticated:
        abort(401)
    return account


# Pages a user who must change the password may still open.
_OPEN_WHILE_CHANGE_PENDING = {"AccountSettingsView.password", "static", "appbuilder.static",
                              "YmcsAuthDBView.logout", "LocaleView.index"}


def enforce_account_state():
    """Before every request: a frozen account's session ends now; an account that must
    change its password sees nothing else until it has."""
    if not current_user.is_authenticated:
        return None
    if accounts.is_frozen(current_user):
        logout_user()
        session.pop("locale", None)
        flash(gettext(accounts.FROZEN), "warning")
        return redirect(current_app.appbuilder.get_url_for_login)
    if current_user.must_change_password and request.endpoint not in _OPEN_WHILE_CHANGE_PENDING:
        if request.method != "GET":
            abort(403)
        return redirect(url_for("AccountSettingsView.password"))
    return None
