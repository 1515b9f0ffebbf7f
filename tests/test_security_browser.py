"""Issue 14, finding 3 in a real browser: a document carrying Markdown (an outside image, a phishing link)
is shown as text, the page makes no request outside its own origin, and the staff login works through the
HttpOnly cookie (which page scripts cannot read).

`kb-bot serve` runs in a subprocess on the fake embedder (instant index); headless Chromium drives it.
"""

from __future__ import annotations


import pytest

from test_browser import CHROMIUM, CHROMIUM_ARGS, ask, browser, open_app  # noqa: F401
from web_fixtures import STAFF_PASSWORD, STAFF_USER, copy_seed_documents, kb_bot_serve, wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless browser test needs Chromium at /usr/bin/chromium"),
]

OUTSIDE = "198.51.100.7"  # TEST-NET-2: never routed, so a request to it shows up only as an attempt
HOSTILE_DOC = f"""---
title: "上街区政务服务中心办事指南 ![t](http://{OUTSIDE}/title.png) <img src=http://{OUTSIDE}/t2.png>"
unit: 上街区政务服务中心
---

# 上街区政务服务中心办事指南

政务服务中心办事大厅每周一至周五上午九点开门，市民可以现场办理户籍和社保业务。

![x](http://{OUTSIDE}/track.png)

办理前请访问[官方入口](http://{OUTSIDE}/phish)在线预约，或者扫描 <img src="http://{OUTSIDE}/qr.png"> 二维码。
"""
QUESTION = "政务服务中心办事大厅每周几开门？"


@pytest.fixture
def hostile_server(tmp_path):
    documents = copy_seed_documents(tmp_path / "documents")
    (documents / "办事指南.md").write_text(HOSTILE_DOC, encoding="utf-8")
    with kb_bot_serve(tmp_path, documents, KB_BOT_MODEL="fake") as url:
        yield url


def test_document_markdown_stays_text_and_nothing_is_fetched_from_outside(hostile_server, browser):  # noqa: F811
    url = hostile_server
    page = open_app(browser, url)
    attempts = []  # requests the browser made, or was refused by the CSP, outside the app's origin
    page.on("console", lambda message: attempts.append(message.text)
            if "Content Security Policy" in message.text or OUTSIDE in message.text else None)
    assert "default-src 'self'" in page.evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')")

    answer = ask(page, QUESTION)
    assert "九点开门" in answer
    chat = page.locator("#kb-chat")
    chat.locator("details.kb-card summary").first.click()  # open every source card
    for card in chat.locator("details.kb-card:not([open]) summary").all():
        card.click()
    page.wait_for_function("() => !document.querySelector('#kb-chat details.kb-card:not([open])')", timeout=10_000)
    text = chat.inner_text()
    assert f"![x](http://{OUTSIDE}/track.png)" in text and "[官方入口](" in text  # shown as the characters
    assert chat.locator(f"img[src*='{OUTSIDE}'], a[href*='{OUTSIDE}']").count() == 0
    assert chat.locator(".kb-quote a, .kb-quote img, .kb-quote code").count() == 0

    # The topic browser and the full text of the article, too.
    page.get_by_role("tab", name="企业服务").click()
    page.wait_for_selector("#kb-entry-view .kb-entry", timeout=15_000)
    assert page.locator(f"img[src*='{OUTSIDE}'], a[href*='{OUTSIDE}']").count() == 0

    # Staff login: the cookie is HttpOnly (not visible to scripts) and the staff list appears.
    page.get_by_role("tab", name="工作人员").click()
    page.fill("#kb-staff-user input", STAFF_USER)
    page.fill("#kb-staff-password input", "wrong")
    page.click("#kb-staff-login")
    page.wait_for_function("() => document.querySelector('#kb-staff-login-msg')?.innerText.includes('登录失败')",
                           timeout=15_000)
    page.fill("#kb-staff-user input", STAFF_USER)
    page.fill("#kb-staff-password input", STAFF_PASSWORD)
    page.click("#kb-staff-login")
    page.wait_for_function("() => document.querySelector('#kb-docs')?.innerText.includes('办事指南.md')",
                           timeout=15_000)
    assert page.locator(f"#kb-docs img[src*='{OUTSIDE}'], #kb-docs a[href*='{OUTSIDE}']").count() == 0
    assert "kb_staff" not in page.evaluate("() => document.cookie")
    assert any(c["name"] == "kb_staff" and c["httpOnly"] and c["sameSite"] == "Strict"
               for c in page.context.cookies())
    # A reload keeps the staff member logged in (the cookie, not the Gradio session, is the login).
    page.reload()
    page.wait_for_selector("#kb-question textarea", timeout=30_000)
    page.get_by_role("tab", name="工作人员").click()
    page.wait_for_function("() => document.querySelector('#kb-docs')?.innerText.includes('办事指南.md')",
                           timeout=15_000)

    # Logout ends the session on the server and drops the cookie; a reload shows the login form again.
    page.click("#kb-staff-logout")
    page.wait_for_selector("#kb-staff-login", state="visible", timeout=15_000)
    wait_until(lambda: not any(c["name"] == "kb_staff" for c in page.context.cookies()), timeout=10,
               what="the staff cookie to be dropped")
    page.reload()
    page.wait_for_selector("#kb-question textarea", timeout=30_000)
    page.get_by_role("tab", name="工作人员").click()
    page.wait_for_selector("#kb-staff-login", state="visible", timeout=15_000)
    assert page.locator("#kb-docs").count() == 0 or not page.locator("#kb-docs").is_visible()

    assert page.outside_requests == [], page.outside_requests
    assert attempts == [], attempts
