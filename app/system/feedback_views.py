"""Feedback, from the top-right corner: the form; the rules are app/system/feedback.py."""

import logging

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.system import feedback

log = logging.getLogger(__name__)


class FeedbackForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(),
                                                     Length(max=feedback.MAX_SUBJECT)])
    message = TextAreaField(_l("Message"), validators=[DataRequired(),
                                                       Length(max=feedback.MAX_MESSAGE)])
    attachment = FileField(_l("Attachment (optional)"))


class FeedbackView(BaseView):
    route_base = "/feedback"
    default_view = "send"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def send(self):
        form = FeedbackForm()
        limit = current_app.config["FEEDBACK_MAX_ATTACHMENT_BYTES"]
        support = current_app.config["SUPPORT_EMAIL"]
        if request.method == "POST":
            if not form.validate():
                return self._page(form, limit, 400)
            try:
                attachment = self._attachment(form, limit)
                feedback.send_feedback(db.session, current_user, form.subject.data,
                                       form.message.data, support, attachment)
                db.session.commit()
            except feedback.FeedbackError as error:
                db.session.rollback()
                log.warning("feedback refused: %s", error)
                flash(gettext(error.template, **error.params), "danger")
                return self._page(form, limit, 400)
            flash(gettext("Thank you: your feedback was sent to %(support)s, with a copy to "
                          "%(email)s.", support=support, email=current_user.email), "success")
            return redirect(url_for(".send"))
        return self._page(form, limit)

    def _attachment(self, form, limit):
        upload = form.attachment.data
        if not upload or not getattr(upload, "filename", ""):
            return None
        data = upload.stream.read(limit + 1)  # one byte past the limit says "too big"
        name, content_type = feedback.check_attachment(upload.filename, data, limit)
        return name, content_type, data

    def _page(self, form, limit, status=200):
        return self.render_template("system/feedback.html", form=form,
                                    limit_mb=round(limit / 1024 / 1024, 1)), status
