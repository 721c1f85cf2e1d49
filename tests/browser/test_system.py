"""Chapters 9-11 in the browser: a master account adds a finance sub-account (features,
data permission from the searchable select), which signs in with the mailed password, must
change it, and sees only the orders and statements of its granted enterprise; the master
resets and deletes it (with confirmation); the Operation Log's filters and readable names in
English and Chinese; Feedback; the platform admin's mail outbox."""

import re
import uuid

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage

from .conftest import add_button, confirm_modal, expect_message, login_through_form

ACME = "acme@ymcs.example"
ADMIN = "admin@ymcs.example"
KAIXIN = "Kaixin Trading"  # under Gamma Voice, in Acme's subtree; it has orders
ACME_HOTEL = "Acme Hotel Group"  # Acme's own enterprise: not granted


def _mailed_password(app, email):
    with app.app_context():
        body = db.session.execute(select(OutboxMessage.body_text).where(
            OutboxMessage.recipient == email).order_by(OutboxMessage.id.desc())).scalar()
        db.session.remove()
    return re.search(r"Temporary password: (\S+)", body).group(1)


def _choose_target(page, text):
    page.locator("#targets + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results").get_by_role("option").filter(has_text=text).first.click()


def test_a_finance_sub_account_made_in_the_browser_sees_only_its_enterprise(
        live_server, page_as, _contexts):
    email = f"fin-{uuid.uuid4().hex[:6]}@acme.example"
    master = page_as(ACME)
    master.get_by_role("link", name="System Management").click()
    master.get_by_role("link", name="Sub account management").click()
    expect(master.locator("h4", has_text="Sub account management")).to_be_visible()
    add_button(master).click()
    master.locator("#email").fill(email)
    master.locator("#first_name").fill("Fiona")
    master.locator("#last_name").fill("Finance")
    master.get_by_label("Finance: orders and statements").check()
    _choose_target(master, KAIXIN)
    master.locator("#save-sub-account").click()
    expect_message(master, "success", f"The sub account {email} was added")
    row = master.locator("tr", has_text=email)
    expect(row).to_contain_text("Finance")
    expect(row).to_contain_text(KAIXIN)
    expect(row.locator(".ymcs-badge.label-success")).to_have_text("Active")  # a green badge

    # the new account signs in with the mailed password and must choose its own first
    sub = _contexts().new_page()
    login_through_form(sub, email, _mailed_password(live_server.app, email))
    expect(sub.locator("#forced-change")).to_be_visible()
    sub.locator("#old_password").fill(_mailed_password(live_server.app, email))
    sub.locator("#new_password").fill("Fiona-pass-2026")
    sub.locator("#repeat_password").fill("Fiona-pass-2026")
    sub.get_by_role("button", name="Confirm").click()
    expect_message(sub, "success", "Your password has been changed.")

    # orders and statements of Kaixin Trading only; no other menus
    sub.goto("/ordermodelview/list/")
    expect(sub.locator("tbody tr").first).to_contain_text(KAIXIN)
    expect(sub.locator("tbody")).not_to_contain_text(ACME_HOTEL)
    cells = sub.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert cells and set(cells) == {KAIXIN}
    sub.goto("/statementmodelview/list/")
    expect(sub.locator("tbody")).to_contain_text(KAIXIN)
    expect(sub.locator("tbody")).not_to_contain_text(ACME_HOTEL)
    expect(sub.get_by_role("link", name="User Management")).to_have_count(0)
    expect(sub.get_by_role("link", name="System Management")).to_have_count(0)

    # the master resets its password (a new one is mailed; its session ends) ...
    master.goto("/subaccountmodelview/list/")
    master.locator("tr", has_text=email).locator(".ymcs-actions-toggle").click()
    master.locator("tr", has_text=email).get_by_role("button", name="Reset password").click()
    confirm_modal(master)
    expect_message(master, "success", f"A new password was mailed to {email}")
    sub.goto("/ordermodelview/list/")
    expect(sub).to_have_url(re.compile(r"/login/"))
    login_through_form(sub, email, _mailed_password(live_server.app, email))
    expect(sub.locator("#forced-change")).to_be_visible()

    # ... and deletes it, confirming; its open session ends at its next request
    master.locator("tr", has_text=email).locator(".ymcs-actions-toggle").click()
    master.locator("tr", has_text=email).get_by_role("button", name="Delete").click()
    confirm_modal(master)
    expect_message(master, "success", f"Deleted sub accounts: {email}.")
    expect(master.locator("tbody")).not_to_contain_text(email)
    sub.goto("/ordermodelview/list/")
    expect(sub).to_have_url(re.compile(r"/login/"))


def test_operation_log_filters_in_english_and_chinese(page_as):
    page = page_as(ACME)
    page.goto("/operationlogmodelview/list/")
    page.locator('select[name="op"]').select_option(label="Sign in")
    page.locator('select[name="result"]').select_option("success")
    page.locator("#user").fill(ACME)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr").first).to_contain_text("Sign in")
    expect(page.locator("tbody tr").first).to_contain_text(ACME)
    page.locator("#start").fill("2999-01-01")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody")).to_contain_text("No records found")

    page.goto("/lang/zh")
    page.goto("/operationlogmodelview/list/?op=login&result=success")
    expect(page.locator("h4", has_text="操作日志")).to_be_visible()
    expect(page.locator("tbody tr").first).to_contain_text("登录")
    page.goto("/subaccountmodelview/list/")
    expect(page.locator("h4", has_text="子账号管理")).to_be_visible()
    page.goto("/lang/en")


def test_feedback_and_the_admins_mail_outbox(page_as):
    subject = f"Phones {uuid.uuid4().hex[:6]}"
    page = page_as(ACME)
    page.locator("#feedback-link").click()
    page.locator("#subject").fill(subject)
    page.locator("#message").fill("They reboot every night.")
    page.locator("#attachment").set_input_files(files=[{
        "name": "notes.txt", "mimeType": "text/plain", "buffer": b"reboot at 03:00\n"}])
    page.locator("#send-feedback").click()
    expect_message(page, "success", "Thank you: your feedback was sent")
    # a forged type is refused with the reason
    page.locator("#subject").fill(subject + " again")
    page.locator("#message").fill("Picture attached.")
    page.locator("#attachment").set_input_files(files=[{
        "name": "screen.png", "mimeType": "image/png", "buffer": b"MZ\x90\x00not a picture"}])
    page.locator("#send-feedback").click()
    expect_message(page, "danger", "must be of the type its name says")

    admin = page_as(ADMIN)
    admin.get_by_role("link", name="System Management").click()
    admin.get_by_role("link", name="Mail Outbox").click()
    admin.locator('input[name="q"]').fill(ACME)
    admin.get_by_role("button", name="Search").click()
    expect(admin.locator("tbody")).to_contain_text(f"YMCS: your feedback: {subject}")


def _choose_channel(page, text):
    page.locator("#channel + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results").get_by_role("option").filter(has_text=text).first.click()


def test_the_admin_adds_a_sub_account_for_a_channel_and_the_master_edits_it(page_as):
    email = f"ops-{uuid.uuid4().hex[:6]}@acme.example"
    admin = page_as(ADMIN)
    admin.goto("/subaccountmodelview/list/")
    add_button(admin).click()
    _choose_channel(admin, "Acme Telecom")
    admin.locator("#choose-channel").click()
    expect(admin.locator("#sub-account-channel")).to_contain_text("Acme Telecom")
    admin.locator("#email").fill(email)
    admin.locator("#first_name").fill("Otto")
    admin.get_by_label("Finance: orders and statements").check()
    _choose_target(admin, KAIXIN)
    admin.locator("#save-sub-account").click()
    expect_message(admin, "success", f"The sub account {email} was added")

    # Acme's master edits it: another feature, another enterprise
    master = page_as(ACME)
    master.goto("/subaccountmodelview/list/")
    row = master.locator("tr", has_text=email)
    expect(row).to_contain_text("Finance")
    row.get_by_role("link", name="Edit").click()
    expect(master.get_by_role("heading", name=f"Edit sub account {email}")).to_be_visible()
    expect(master.locator("#first_name")).to_have_value("Otto")
    master.get_by_label("Finance: orders and statements").uncheck()
    master.get_by_label("Device operator: devices").check()
    _choose_target(master, ACME_HOTEL)
    master.locator("#save-sub-account").click()
    expect_message(master, "success", f"The sub account {email} was saved.")
    row = master.locator("tr", has_text=email)
    expect(row).to_contain_text("Device operator")
    expect(row).not_to_contain_text("Finance")
    expect(row).to_contain_text(ACME_HOTEL)
    expect(row).to_contain_text(KAIXIN)
    # a refusal keeps the form with the reason: no feature at all
    row.get_by_role("link", name="Edit").click()
    master.get_by_label("Device operator: devices").uncheck()
    master.locator("#save-sub-account").click()
    expect_message(master, "danger", "Choose at least one feature.")


def test_the_admin_resends_a_failed_mail(live_server, page_as):
    from app.core.mail import enqueue_mail
    from app.models import OutboxStatus

    address = f"gone-{uuid.uuid4().hex[:6]}@kaixin.example"
    app = live_server.app
    with app.app_context():
        message = enqueue_mail(db.session, address, "YMCS: your account", "Hello")
        message.status, message.attempts = OutboxStatus.failed, 1
        message.last_error = "550 5.1.1 No such user here"
        db.session.commit()
        db.session.remove()
    admin = page_as(ADMIN)
    admin.goto("/outboxmodelview/list/")
    admin.locator('input[name="q"]').fill(address)
    admin.get_by_role("button", name="Search").click()
    row = admin.locator("tr", has_text=address)
    expect(row.locator(".ymcs-badge.label-danger")).to_have_text("Failed")  # a red badge
    expect(row).to_contain_text("550 5.1.1 No such user here")
    row.get_by_role("button", name="Resend").click()
    confirm_modal(admin)
    expect_message(admin, "success", f"Mails to {address} queued again.")
    row = admin.locator("tr", has_text=address)
    expect(row.locator(".ymcs-badge.label-info")).to_have_text("Queued")
    row.get_by_role("link", name="YMCS: your account").click()
    expect(admin.locator("#outbox-status")).to_have_text("Queued")
    expect(admin.locator("#outbox-status")).to_have_class(re.compile(r"\blabel-info\b"))
    with app.app_context():
        status = db.session.execute(select(OutboxMessage.status).where(
            OutboxMessage.recipient == address)).scalar()
        db.session.remove()
    assert status == OutboxStatus.pending


def test_every_system_page_in_chinese(page_as):
    admin = page_as(ADMIN)
    admin.goto("/lang/zh")
    try:
        admin.goto("/subaccountmodelview/list/")
        expect(admin.locator("h4", has_text="子账号管理")).to_be_visible()
        expect(admin.locator("thead")).to_contain_text("数据权限")
        admin.goto("/subaccountmodelview/add")
        expect(admin.locator("h4", has_text="添加子账号")).to_be_visible()
        expect(admin.locator("label[for=channel]")).to_have_text("子账号所属渠道")
        _choose_channel(admin, "Acme Telecom")
        admin.locator("#choose-channel").click()
        expect(admin.locator("legend", has_text="账号信息")).to_be_visible()
        expect(admin.locator("legend", has_text="数据权限")).to_be_visible()
        admin.goto("/subaccountmodelview/list/?q=finance%40acme")
        admin.locator("tr", has_text="finance@acme.example").locator(
            "a[href*='/subaccountmodelview/edit/']").click()
        expect(admin.locator("h4", has_text="编辑子账号 finance@acme.example")).to_be_visible()
        admin.goto("/operationlogmodelview/list/?op=login")
        expect(admin.locator("h4", has_text="操作日志")).to_be_visible()
        expect(admin.locator("tbody tr").first).to_contain_text("登录")
        admin.locator("#feedback-link").click()
        expect(admin.locator("h4", has_text="意见反馈")).to_be_visible()
        expect(admin.locator("#send-feedback")).to_contain_text("发送")
        admin.goto("/outboxmodelview/list/")
        expect(admin.locator("h4", has_text="邮件发件箱")).to_be_visible()
        expect(admin.locator("thead")).to_contain_text("收件人")
    finally:
        admin.goto("/lang/en")
