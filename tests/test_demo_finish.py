"""The demo as a newcomer meets it (issue #18, "Demo"): every seeded phone is either simulated
or goes offline by the normal rule, so nothing stays "Online" and no command stays "Queued"
for ever; and the local SMTP sink scripts/run.sh starts takes the portal's mail, so the outbox
delivers it (the platform administrator reads it there) instead of retrying."""

import datetime
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

from app.core.mail import enqueue_mail, send_due_mail
from app.demo import DEMO_FLEET_MAX, DEMO_PASSWORD, demo_fleet_macs, seed_demo
from app.device_ops.commands import expire_commands, queue_command
from app.device_ops.inventory import mark_silent_devices_offline
from app.extensions import db
from app.models import CommandStatus, Device, OutboxMessage, OutboxStatus, utcnow

from .conftest import Browser, create_test_database, make_app, migrate_and_sync
from .helpers import wait_until
from .smtp import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What scripts/run.sh runs (the test checks the script still says so).
SINK = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l"]


@pytest.fixture(scope="module")
def sink_port():
    return free_port()


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, sink_port):
    url, drop = create_test_database(tmp_path_factory.mktemp("demo-db"))
    app = make_app(url, FILE_STORE_DIR=str(tmp_path_factory.mktemp("demo-files")),
                   MAIL_PORT=sink_port, DEVICE_PERIODIC_INTERVAL=60)
    migrate_and_sync(app)
    with app.app_context():
        seed_demo(db.session)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def test_every_demo_device_is_simulated_or_goes_offline(demo_app):
    simulated = set(demo_fleet_macs(DEMO_FLEET_MAX))
    with demo_app.app_context():
        devices = db.session.execute(select(Device)).scalars().all()
        online = [d for d in devices if d.online and d.mac not in simulated]
        assert online, "the demo seeds some phones as online"
        assert all(d.offline_after is not None for d in online), \
            [d.mac for d in online if d.offline_after is None]
        # a command for one of them: queued until the phone calls, which it never will
        command = queue_command(db.session, online[0], "reboot", {}, by="newcomer")
        db.session.commit()
        later = utcnow() + datetime.timedelta(minutes=3)  # two one-minute intervals and more
        assert mark_silent_devices_offline(db.session, now=later) >= len(online)
        db.session.expire_all()
        assert not any(d.online for d in db.session.execute(select(Device).where(
            Device.mac.not_in(simulated))).scalars())
        timeout = demo_app.config["COMMAND_TIMEOUT_SECONDS"]
        expire_commands(db.session, timeout, now=utcnow() + datetime.timedelta(
            seconds=timeout + 60))
        db.session.expire_all()
        assert db.session.get(type(command), command.id).status == CommandStatus.failed
        db.session.remove()


def test_seeding_again_repairs_phones_left_online_for_good(demo_app):
    with demo_app.app_context():
        device = db.session.execute(select(Device).where(
            Device.mac.like("00156501%"))).scalars().first()
        device.online, device.offline_after = True, None  # as an earlier demo left it
        db.session.commit()
        seed_demo(db.session)
        db.session.expire_all()
        assert db.session.get(Device, device.id).offline_after is not None
        db.session.remove()


def _listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_run_sh_starts_the_sink_and_stops_its_children():
    script = open(os.path.join(ROOT, "scripts", "run.sh")).read()
    assert "python -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l" in script
    assert "trap stop_children EXIT" in script
    requirements = open(os.path.join(ROOT, "requirements.txt")).read()
    assert "aiosmtpd==" in requirements  # run.sh installs requirements.txt only


def test_mail_is_delivered_to_the_sink_and_read_in_the_outbox(demo_app, sink_port):
    sink = subprocess.Popen([*SINK, f"127.0.0.1:{sink_port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _listening(sink_port), what="the SMTP sink")
        with demo_app.app_context():
            message = enqueue_mail(
                db.session, "it@newcomer.example", "YMCS: your account",
                "Your login: it@newcomer.example\nTemporary password: Pa55-word-1\n")
            db.session.commit()
            run = send_due_mail(db.session, demo_app)
            assert run.sent >= 1 and not run.retrying and not run.failed
            pk = message.id
            assert db.session.get(OutboxMessage, pk).status == OutboxStatus.sent
            db.session.remove()
    finally:
        sink.terminate()
        sink.wait(timeout=30)
    admin = Browser(demo_app, "admin@ymcs.example", DEMO_PASSWORD)
    listing = admin.get("/outboxmodelview/list/").get_data(as_text=True)
    assert f'/outboxmodelview/show/{pk}"' in listing
    page = admin.get(f"/outboxmodelview/show/{pk}").get_data(as_text=True)
    assert "Temporary password: Pa55-word-1" in page and 'id="outbox-body"' in page
    assert "Sent" in page
    # nobody else reads the outbox
    acme = Browser(demo_app, "acme@ymcs.example", DEMO_PASSWORD)
    assert acme.get(f"/outboxmodelview/show/{pk}").status_code in (403, 404)
