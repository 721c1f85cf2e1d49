"""The landing page ("Overview"): what the signed-in principal manages, counted within its
scope. Each part shows only when the account may open the list it links to, so a channel sees
its devices, enterprises awaiting authorization, orders about to expire and open alarms; a
finance sub-account this month's orders and statement; an enterprise its devices and how long
its orders cover it. Every figure is one aggregate query (a handful per page)."""

import datetime
from types import SimpleNamespace

from flask import redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_login import current_user
from sqlalchemy import func, select

from app.core import scope
from app.extensions import db
from app.models import (
    AccountKind,
    Authorization,
    Channel,
    Device,
    Enterprise,
    Order,
    OrderStatus,
    PermissionType,
)
from app.orders.rules import last_day_of_service, today

EXPIRING_DAYS = 30
EXPIRING_SHOWN = 5


def _count(session, query):
    return session.execute(select(func.count()).select_from(query.subquery())).scalar()


def scoped_counts(session, principal):
    """Sub-channels, enterprises, devices, online and offline devices the principal sees."""
    online = dict(session.execute(scope.visible_devices(
        select(Device.online, func.count()), principal).group_by(Device.online)).all())
    on, off = online.get(True, 0), online.get(False, 0)
    return {
        "channels": _count(session, scope.manageable_channels(select(Channel.id), principal)),
        "enterprises": _count(session,
                              scope.visible_enterprises(select(Enterprise.id), principal)),
        "devices": on + off,
        "online": on,
        "offline": off,
    }


def awaiting_authorization(session, principal):
    """Device-management enterprises in scope that have not yet authorized their channel."""
    return _count(session, scope.visible_enterprises(select(Enterprise.id).where(
        Enterprise.permission_type == PermissionType.device_management,
        Enterprise.authorization == Authorization.pending), principal))


def expiring_orders(session, principal, on=None, days=EXPIRING_DAYS, most=EXPIRING_SHOWN):
    """(how many, the first ``most``) effective orders whose service ends within ``days``."""
    on = on or today()
    where = (Order.status == OrderStatus.effective, Order.expires_on > on,
             Order.expires_on <= on + datetime.timedelta(days=days))
    total = _count(session, scope.visible_orders(select(Order.id).where(*where), principal))
    rows = session.execute(scope.visible_orders(
        select(Order.id, Order.package_name, Order.max_devices, Order.expires_on,
               Enterprise.name.label("enterprise_name"))
        .join(Enterprise, Enterprise.id == Order.enterprise_id).where(*where), principal)
        .order_by(Order.expires_on, Order.id).limit(most)).all()
    return total, [SimpleNamespace(**row._asdict(), last_day=last_day_of_service(row.expires_on))
                   for row in rows]


def month_of(on):
    """(first day of ``on``'s month, its last day)."""
    first = on.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def orders_this_month(session, principal, on=None):
    """This month's statement in scope: orders placed this month and the devices they buy,
    by package; and how many orders are effective now."""
    first, last = month_of(on or today())
    start = datetime.datetime.combine(first, datetime.time())
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time())
    placed = session.execute(scope.visible_orders(
        select(Order.package_name, func.count(), func.sum(Order.max_devices))
        .where(Order.created_on >= start, Order.created_on < end,
               Order.status != OrderStatus.cancelled), principal)
        .group_by(Order.package_name).order_by(Order.package_name)).all()
    effective = _count(session, scope.visible_orders(
        select(Order.id).where(Order.status == OrderStatus.effective), principal))
    return {
        "first": first, "last": last, "by_package": placed,
        "orders": sum(n for _p, n, _d in placed),
        "devices": sum(d or 0 for _p, _n, d in placed),
        "effective": effective,
    }


def order_validity(session, principal, on=None):
    """An enterprise's cover: devices its effective orders allow, the last day of the one
    that ends last, and the next order waiting to start."""
    on = on or today()
    allowed, ends = session.execute(scope.visible_orders(
        select(func.sum(Order.max_devices), func.max(Order.expires_on))
        .where(Order.status == OrderStatus.effective), principal)).one()
    upcoming = session.execute(scope.visible_orders(
        select(func.min(Order.effective_on)).where(Order.status == OrderStatus.pending),
        principal)).scalar()
    last_day = last_day_of_service(ends) if ends else None
    return {"allowed": allowed or 0, "last_day": last_day, "upcoming": upcoming,
            "days_left": (last_day - on).days + 1 if last_day else None}


def overview(session, principal, can):
    """Everything the home page shows, only the parts the account may open (``can(view)``)."""
    home = {"counts": scoped_counts(session, principal), "today": today()}
    if can("EnterpriseModelView"):
        home["awaiting"] = awaiting_authorization(session, principal)
    if can("OrderModelView"):
        home["expiring"] = expiring_orders(session, principal)
        home["month"] = orders_this_month(session, principal)
    if principal.kind == AccountKind.enterprise:
        home["validity"] = order_validity(session, principal)
    if can("AlarmModelView"):
        from app.alarms.queries import open_by_severity  # the alarm domain's own count

        home["alarms"] = open_by_severity(session, principal)
    return home


class DashboardView(IndexView):
    index_template = "dashboard.html"

    @expose("/")
    def index(self):
        if not current_user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        sm = self.appbuilder.sm
        home = overview(db.session, scope.current_principal(),
                        lambda view: sm.has_access("can_list", view))
        return self.render_template(self.index_template, home=home, counts=home["counts"],
                                    alarms=home.get("alarms"))
