"""The diagnostic page's log tools in a real browser (issue 16), one test per tool: each log
setting saved from its form and held by the simulated VC800 afterwards, the log data backup
and the backup logs (one downloaded, several as one zip), diagnosis assistance (the mail
arrives at the SMTP server), the end of the diagnosis; an offline device, whose tools are off
with the reason shown; and the page in Chinese. The device tools are in
test_diagnostics_tools.py."""

import io
import re
import secrets
import zipfile

from playwright.sync_api import expect

from app.core.mail import send_due_mail
from app.device_ops import diagnostics_files
from app.extensions import db

from ..acs_support import give_quota
from ..tree import build_tree
from . import diagnostics_support as support
from .conftest import TIMEOUT_MS, login_through_form
from .diagnostics_support import (
    connect_phone,
    device_row,
    disconnect_phone,
    done,
    downloaded,
    open_tool,
    run,
    state,
    submit,
    value_on,
)

vc, acme_context, acme = support.vc, support.acme_context, support.acme  # the module's fixtures


def test_log_level(acme, vc):
    page = open_tool(acme, vc.device_id, "log_settings")
    expect(page.locator("#log-support")).to_contain_text("XX.32.0.35")
    run(page, "#read-log-settings")  # the device's current values first
    done(page, "log_settings", "Current values read")
    page.reload()
    expect(page.locator("#log-level")).to_have_value(value_on(vc, "log.level"))
    page.locator("#log-level").select_option("5")
    run(page, "#save-log-level")
    done(page, "log_settings", "Applied")
    assert value_on(vc, "log.level") == "5"
    page.reload()
    expect(page.locator("#log-level")).to_have_value("5")


def test_module_log_and_its_exported_level(acme, vc):
    page = open_tool(acme, vc.device_id, "log_settings")
    page.locator("#local-level").select_option("3")
    run(page, "#save-local-log")
    done(page, "log_settings")
    page.locator("#module-type").select_option("Driver")
    page.locator("#module-level").select_option("6")
    run(page, "#save-module-log")
    done(page, "log_settings", "Applied")
    assert value_on(vc, "module.Driver") == "6"
    page.reload()
    # the spec's example: the driver at 6 and the local log at 3 export at 3
    driver = page.locator("#exported-levels tbody tr").filter(has_text="Driver").locator("td")
    expect(driver.nth(1)).to_have_text("6")
    expect(driver.nth(2)).to_have_text("3")
    page.locator("#module-type").select_option("Driver")  # its own level is shown
    expect(page.locator("#module-level")).to_have_value("6")

    page.locator("#module-type").select_option("All")  # every module at once
    page.locator("#module-level").select_option("2")
    run(page, "#save-module-log")
    done(page, "log_settings")
    assert {value_on(vc, f"module.{m}") for m in ("Driver", "Talk", "Web")} == {"2"}


def test_local_log(acme, vc):
    page = open_tool(acme, vc.device_id, "log_settings")
    page.locator("#local-enable").check()
    page.locator("#usb-export").check()
    page.locator("#local-level").select_option("2")
    page.locator("#max-size").select_option("512")
    run(page, "#save-local-log")
    done(page, "log_settings", "Applied")
    assert [value_on(vc, f"local.{k}") for k in ("enable", "usb_export", "level",
                                                 "max_size")] == ["1", "1", "2", "512"]
    page.reload()
    expect(page.locator("#usb-export")).to_be_checked()
    expect(page.locator("#max-size")).to_have_value("512")


def test_syslog(acme, vc):
    page = open_tool(acme, vc.device_id, "log_settings")
    page.locator("#syslog-enable").check()
    page.locator("#syslog-server").fill("10.20.30.40")
    page.locator("#syslog-port").fill("1514")
    page.locator("#syslog-transport").select_option("TCP")
    page.locator("#syslog-level").select_option("4")
    page.locator("#syslog-facility").select_option(label="local3")
    page.locator("#prepend-mac").check()
    run(page, "#save-syslog")
    done(page, "log_settings", "Applied")
    assert [value_on(vc, f"syslog.{k}") for k in (
        "enable", "server", "port", "transport", "level", "facility", "prepend_mac")] == [
        "1", "10.20.30.40", "1514", "TCP", "4", "19", "1"]

    page.reload()  # the form shows what the device holds now
    expect(page.locator("#syslog-port")).to_have_value("1514")
    expect(page.locator("#syslog-facility")).to_have_value("19")
    page.locator("#syslog-server").fill("not a host!")  # refused by the portal, nothing sent
    submit(page, "#save-syslog")
    expect(page.locator(".alert-danger")).to_contain_text("Enter a host name or an IP address.")
    assert value_on(vc, "syslog.server") == "10.20.30.40"


def test_put_log_backups_to_a_server(acme, vc):
    page = open_tool(acme, vc.device_id, "log_settings")
    page.locator("#backup-enable").check()
    page.locator("#backup-url").fill("https://logs.example.com/up")
    page.locator("#backup-username").fill("ops")
    page.locator("#backup-password").fill("Pa55-word!")
    page.locator("#backup-method").select_option("PUT")
    page.locator("#backup-post-mode").select_option("binary")
    run(page, "#save-log-backup-server")
    done(page, "log_settings", "Applied")
    assert [value_on(vc, f"backup.{k}") for k in (
        "enable", "url", "username", "password", "method", "post_mode")] == [
        "1", "https://logs.example.com/up", "ops", "Pa55-word!", "PUT", "binary"]
    expect(page.locator("#backup-password")).to_have_value("")  # never shown again
    expect(page.locator("#backup-url")).to_have_value("https://logs.example.com/up")
    expect(page.locator("#backup-method")).to_have_value("PUT")
    assert "Pa55-word!" not in page.content()


def test_log_data_backup(acme, vc):
    page = open_tool(acme, vc.device_id, "log_settings")
    page.locator("#log-data-backup").check()
    run(page, "#save-log-data-backup", message="Log data backup is on")
    done(page, "log_settings", "Applied")  # the device has the switch too
    assert value_on(vc, "log.data_backup") == "1"
    expect(page.locator("#log-data-backup")).to_be_checked()
    page.locator("#log-data-backup").uncheck()
    run(page, "#save-log-data-backup", message="Log data backup is off.")
    done(page, "log_settings", "Applied")
    assert value_on(vc, "log.data_backup") == "0"
    expect(page.locator("#log-data-backup")).not_to_be_checked()


def test_backup_logs_daily_then_download_one_and_a_zip(live_server, acme, vc):
    page = open_tool(acme, vc.device_id, "log_settings")
    page.locator("#log-data-backup").check()
    run(page, "#save-log-data-backup", message="Log data backup is on")

    with live_server.app.app_context():  # the scheduler's daily job asks the device
        assert diagnostics_files.queue_daily_backups(db.session) >= 1
        db.session.remove()
    assert vc.run_session().error is None  # ... which sends its log at its next contact
    page.locator("#nav-backups").click()
    run(page, "#run-backups")  # and one now, by hand
    done(page, "backups")
    rows = state(page, "backups").locator(".ymcs-file-row")
    expect(rows.nth(1)).to_be_visible()

    name, data = downloaded(page, rows.nth(0).locator(".ymcs-download"))
    assert re.fullmatch(rf"{vc.mac}-backup_log-\d{{8}}-\d{{6}}-\d+\.log", name), name
    assert b"backup" in data

    rows.nth(0).locator("input[name=ids]").check()
    rows.nth(1).locator("input[name=ids]").check()
    name, data = downloaded(page, page.locator("#backups-download-selected"))
    assert name.endswith(".zip")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert len(names) == 2 and all(n.startswith(f"{vc.mac}-backup_log-") for n in names)


def test_diagnosis_assistance_mail_arrives(live_server, acme, vc, smtp_server):
    app = live_server.app
    app.config["DIAGNOSIS_SUPPORT_ADDRESS"] = "support@vendor.example"
    try:
        page = open_tool(acme, vc.device_id, "assist")
        expect(page.locator("#tool-assist")).to_contain_text("support@vendor.example")
        description = f"One-way audio since Monday ({secrets.token_hex(3)})"
        page.locator("#assist-description").fill(description)
        run(page, "#run-assist", message="support@vendor.example")
        status = page.locator("#assist-history tr").filter(has_text=description[:40])
        expect(status.locator(".ymcs-mail-status")).to_have_text("In the outbox")

        with app.app_context():  # the outbox's sender goes round
            send_due_mail(db.session, app)
            db.session.remove()
        mails = [m for rcpts, m in smtp_server.received if "support@vendor.example" in rcpts]
        assert len(mails) == 1
        body = mails[0].get_body(("plain",)).get_content()
        assert description in body and f"MAC: {vc.mac}" in body and "Model: VC800" in body
        # the page looks at a pending mail every 5 s: more than expect's default wait
        expect(status.locator(".ymcs-mail-status")).to_have_text("Sent", timeout=TIMEOUT_MS)
    finally:
        app.config["DIAGNOSIS_SUPPORT_ADDRESS"] = ""


def test_end_diagnosis_goes_back_to_the_alarm_list(live_server, acme, vc):
    page = open_tool(acme, vc.device_id, "cpu")
    page.locator("#end-diagnosis").click()
    expect(page).to_have_url(re.compile(re.escape(f"{live_server.url}/alarms/list/")))


def test_an_offline_device_s_tools_are_off_with_the_reason(live_server, acme):
    device = device_row(live_server, model="VC800", firmware="63.32.0.40", online=False)
    page = acme
    page.goto(f"/diagnostics/{device.id}")
    expect(page.locator("#device-online")).to_have_text("Offline")
    expect(page.locator("#offline-note")).to_be_visible()
    reason = "The device is offline: this tool needs it connected to the platform."
    for tool in ("network", "syslog", "config", "cpu", "log_settings", "capture",
                 "screenshot", "recordings"):
        page.locator(f"#nav-{tool}").click()
        panel = page.locator(f"#tool-{tool}")
        expect(panel.locator(".ymcs-refusal")).to_have_text(reason)
        for button in panel.locator("button[type=submit]").all():
            expect(button).to_be_disabled()
    page.locator("#nav-backups").click()  # the files kept on the platform stay reachable
    expect(page.locator("#run-backups")).to_be_enabled()


def test_the_page_in_chinese(live_server, anon_page):
    prefix = f"zh{secrets.token_hex(3)}"
    with live_server.app.app_context():  # its own tree: the language chosen sticks to it
        t = build_tree(db.session, prefix)
        db.session.commit()
        give_quota(db.session, t.E.id, 5)
        email, enterprise, password = t.c.username, t.E.name, t.password
        db.session.remove()
    phone = connect_phone(live_server, enterprise)
    try:
        page = anon_page
        page.goto("/login/")
        page.locator("#language").select_option("zh")  # the login page reloads in Chinese
        expect(page.locator(".panel-title").first).to_have_text("登录 YMCS 渠道平台")
        # the page remembered the choice (its request to /lang/zh answered) before we leave it:
        # login_through_form opens /login/ again, which would cancel that request
        expect(page.locator('#language[data-saved="zh"]')).to_have_count(1)
        login_through_form(page, email, password)
        page.goto(f"/diagnostics/{phone.device_id}")
        expect(page.locator("#nav-network")).to_have_text("网络诊断")
        expect(page.locator("#end-diagnosis")).to_contain_text("结束诊断")
        run(page, "#run-network", message="已加入设备的命令队列")
        done(page, "network", "完成")
        expect(state(page, "network")).to_contain_text(re.compile("收到 4.*丢失 0"))
    finally:
        disconnect_phone(phone)
