"""What the alarm tests share: a device of an enterprise, and alarms made directly."""

from sqlalchemy import select

from app.alarms import rules
from app.models import Alarm, Device


def device_of(session, enterprise_id):
    return session.execute(select(Device).where(Device.enterprise_id == enterprise_id)
                           .order_by(Device.id)).scalars().first()


def make_alarm(session, enterprise_id, code="call_failed", description="", device=None):
    device = device or device_of(session, enterprise_id)
    raised = rules.raise_alarm(session, device.id, enterprise_id, code, description)
    session.commit()
    return session.get(Alarm, raised.alarm_id)
