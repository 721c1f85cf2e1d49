"""Device Configuration in the browser: a channel admin writes a template in the editor, sees
the error marked at its line, fixes it, and saves and pushes it after a confirmation that
names the enterprise; the executed task opens with the enterprise's devices."""

import uuid

from playwright.sync_api import expect

from .conftest import confirming, expect_message

ACME = "acme@ymcs.example"
ACME_HOTEL = "Acme Hotel Group"


def test_write_see_a_line_error_fix_save_and_push(page_as):
    page = page_as(ACME)
    page.goto("/enterpriseconfig/list/")
    page.locator("#template-add").click()
    name = f"Lobby {uuid.uuid4().hex[:6]}"
    page.locator("#template-name").fill(name)
    page.locator("#template-target").select_option(label=ACME_HOTEL)
    editor = page.locator(".CodeMirror")
    expect(editor).to_be_visible()  # the vendored editor replaced the text area
    expect(page.locator(".CodeMirror-linenumber").first).to_be_visible()
    page.evaluate("""() => window.templateEditor.setValue(
        "#!version:1.0.0.1\\naccount.1.label = {{mac}}\\nthis line is wrong\\n")""")
    page.locator("#template-save").click()

    note = page.locator(".cfg-error-note")
    expect(note).to_have_text('Line 3: not a "key = value" line.')
    expect(page.locator("#template-errors")).to_contain_text("Line 3")
    # the editor kept what was typed, with the faulty line marked
    assert "this line is wrong" in page.evaluate("() => window.templateEditor.getValue()")
    expect(page.locator(".cfg-error-line")).to_have_count(1)

    # fixing the marked line clears its mark
    page.evaluate("""() => window.templateEditor.replaceRange(
        "features.dnd.enable = 1", {line: 2, ch: 0}, {line: 2, ch: 18})""")
    expect(page.locator(".cfg-error-note")).to_have_count(0)
    assert page.evaluate("() => window.templateEditor.getValue()") == (
        "#!version:1.0.0.1\naccount.1.label = {{mac}}\nfeatures.dnd.enable = 1\n")
    questions = confirming(page)  # the portal's confirmation modal, answered OK
    page.locator("#template-save-push").click()
    expect(page.locator("#executed-task")).to_be_visible()
    assert questions == [f"Sure to push the configuration to all devices of {ACME_HOTEL}?"]
    expect_message(page, "success", f"{name} was pushed to")
    expect(page.locator("#executed-task h4")).to_contain_text(name)

    page.goto("/executedtask/list/")
    expect(page.locator("#task-table tbody tr").filter(has_text=name)).to_contain_text(
        ACME_HOTEL)
