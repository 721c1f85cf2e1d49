"""The landing page: what the signed-in principal manages, counted within its scope."""

from flask import redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_login import current_user
from sqlalchemy import func, select

from app.core import scope
from app.extensions import db
from app.models import Channel, Device, Enterprise


def scoped_counts(session, principal):
    """Sub-channels, enterprises, devices and online devices the principal sees."""

    def count(query):
        return session.execute(select(func.count()).select_from(query.subquery())).scalar()

    return {
        "channels": count(scope.manageable_channels(select(Channel.id), principal)),
        "enterprises": count(scope.visible_enterprises(select(Enterprise.id), principal)),
        "devices": count(scope.visible_devices(select(Device.id), principal)),
        "online": count(scope.visible_devices(select(Device.id), principal)
                        .where(Device.online.is_(True))),
    }


class DashboardView(IndexView):
    index_template = "dashboard.html"

    @expose("/")
    def index(self):
        if not current_user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        principal = scope.current_principal()
        counts = scoped_counts(db.session, principal)
        alarms = None
        if self.appbuilder.sm.has_access("can_list", "AlarmModelView"):
            from app.alarms.queries import open_by_severity  # the alarm domain's own count
            alarms = open_by_severity(db.session, principal)
        return self.render_template(self.index_template, counts=counts, alarms=alarms)
