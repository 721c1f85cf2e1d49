"""The configuration sweep as the scheduler runs it: registered, and a due timer task pushed."""

import datetime

from app.configs import pushes
from app.configs.jobs import sweep_configs_job
from app.configs.tables import ConfigPush, PushStatus
from app.core.jobs import job_registry
from app.models import utcnow

from .support import add_template


def test_the_sweep_is_registered_and_pushes_a_due_timer_task(app, db_session, mtree):
    assert "sweep_configs" in job_registry(app)
    template = add_template(db_session, "Due", "x.a = 1\n", enterprise_id=mtree.E)
    task = pushes.schedule(template, utcnow() + datetime.timedelta(minutes=1), "UTC",
                           by="tester")
    db_session.add(task)
    db_session.commit()
    # the scheduler's clock has passed the moment
    task.scheduled_for = utcnow() - datetime.timedelta(seconds=1)
    db_session.commit()
    sweep_configs_job()
    db_session.commit()
    pushed = db_session.get(ConfigPush, task.id)
    db_session.refresh(pushed)
    assert pushed.status == PushStatus.pushed and pushed.devices == 2
