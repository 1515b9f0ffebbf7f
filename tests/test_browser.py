"""End to end: the real `kb-bot serve` in a subprocess, driven by headless Chromium.

Asks a question and checks the streamed answer and its source card, asks an unanswerable
question and checks the suggestions, leaves feedback, logs in as staff, uploads a new
document, refreshes the index and asks a question only the new document answers (the
running server switches to the new index without a restart). Saves screenshots (desktop width,
and 390 px for a phone) to a temporary folder, or to KB_BOT_SCREENSHOT_DIR when it is set
(``KB_BOT_SCREENSHOT_DIR=docs/screenshots`` regenerates the README's pictures).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from kb_bot.staff.questionlog import read_records
from web_fixtures import (
    PARKING_DOC,
    PARKING_FACT,
    PARKING_QUESTION,
    STAFF_PASSWORD,
    STAFF_USER,
    copy_seed_documents,
    kb_bot_serve,
    wait_until,
)

CHROMIUM = Path("/usr/bin/chromium")
#: Where the browser tests save screenshots: one folder under the system's temporary folder, so a test run never
#: rewrites tracked files, and each run replaces the last one's pictures (a new folder per run piled up in /tmp).
#: Regenerate the README's pictures with KB_BOT_SCREENSHOT_DIR=docs/screenshots bash run.sh test -m browser.
SCREENSHOTS = Path(os.environ.get("KB_BOT_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "kb-bot-screenshots")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless browser test needs Chromium at /usr/bin/chromium"),
]


@pytest.fixture
def server(tmp_path):
    """`kb-bot serve --port N` on a temp copy of the documents; yields its URL and the paths it uses."""
    documents = copy_seed_documents(tmp_path / "documents")
    with kb_bot_serve(tmp_path, documents) as url:
        yield {"url": url, "documents": documents, "index": tmp_path / "index", "tmp": tmp_path}


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_app(browser, url: str, width: int = 1280, height: int = 900, mobile: bool = False):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  device_scale_factor=2 if mobile else 1, is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(url)
            and not request.url.startswith("data:") and not request.url.startswith("blob:") else None)
    page.goto(url)
    page.wait_for_selector("#kb-question textarea", timeout=30_000)
    page.outside_requests = outside
    return page


def log_in_as_staff(page, then: str) -> None:
    """Open the staff tab, log in with the test account and wait for ``then`` (the element the test uses first)."""
    page.get_by_role("tab", name="工作人员").click()
    page.fill("#kb-staff-user input", STAFF_USER)
    page.fill("#kb-staff-password input", STAFF_PASSWORD)
    page.click("#kb-staff-login")
    page.wait_for_selector(then, timeout=15_000)


def ask(page, question: str) -> str:
    """Type a question, submit it, wait for the streamed answer to finish; returns the last bubble's text."""
    bubbles = page.locator("#kb-chat .kb-answer")
    before = bubbles.count()
    page.fill("#kb-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        """(before) => {
            const answers = document.querySelectorAll('#kb-chat .kb-answer:not(.kb-muted)');
            return answers.length > before && !document.querySelector('#kb-chat .kb-cursor');
        }""",
        arg=before, timeout=60_000,
    )
    return page.locator("#kb-chat .kb-answer:not(.kb-muted)").last.inner_text()


def test_citizen_chat_staff_upload_and_hot_refresh(server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    url = server["url"]

    # --- Citizen chat: header, Chinese interface, example questions.
    page = open_app(browser, url)
    assert page.locator("#kb-header h1").inner_text() == "上街区政策问答"
    assert "上街区" in page.locator("#kb-header p").inner_text()
    assert "请输入您的问题" in page.locator("#kb-question textarea").get_attribute("placeholder")
    assert page.get_by_text("银企对接平台帮企业融资多少钱？").count() >= 1  # an example from the topic guide

    # --- A real question: streamed answer, source card with the answering span marked.
    answer = ask(page, "那个直播电商基地现在入驻了多少企业、招租面积多大？")  # answered at 0.96
    assert "10余家" in answer
    card = page.locator("#kb-chat details.kb-card").first
    assert card.is_visible()
    assert "四大主攻方向" in card.locator("summary").inner_text()
    assert "10余家" in card.locator("mark").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "citizen-answer.png"), full_page=True)

    # --- A related reply: the closest sentence quoted under an amber badge, nothing marked as the answer.
    page.locator("#kb-chat button[aria-label='清空对话']").click()
    answer = ask(page, "招聘会帮企业招到了多少人？")
    assert "300余人" in answer and "最接近的内容" in answer
    related = page.locator("#kb-chat .kb-related").last
    assert related.is_visible() and "未找到直接答案" in related.inner_text()
    assert related.locator("mark").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "related.png"), full_page=True)

    # --- Thumbs up: the rating joins the question's line in the question log.
    page.locator("#kb-chat button[aria-label='赞']").last.click()

    def rated():
        lines = read_records(server["index"] / "questions.jsonl")
        return next((r for r in lines if r["question"] == "招聘会帮企业招到了多少人？" and r.get("feedback")), None)

    record = wait_until(rated, timeout=10, what="the rating in the question log")
    assert record["feedback"] == "up" and record["docs"][0] == "advanced-manufacturing.md"

    # --- The box is locked while an answer streams (a question sent then was overwritten and never answered),
    # and unlocked when it is in.
    box = "#kb-question textarea"
    page.fill(box, "开发区帮企业贷了多少款？")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('{box}').disabled", timeout=10_000)
    page.wait_for_function(f"() => !document.querySelector('{box}').disabled && !document.querySelector('#kb-chat .kb-cursor')"
                           " && document.querySelectorAll('#kb-chat .kb-answer:not(.kb-muted)').length >= 2",
                           timeout=60_000)
    assert "2600万元" in page.locator("#kb-chat .kb-answer:not(.kb-muted)").last.inner_text()

    # --- Not found: honest message with the nearest topics as clickable suggestions.
    page.locator("#kb-chat button[aria-label='清空对话']").click()
    answer = ask(page, "明天天气怎么样？")
    assert "没有时间和天气" in answer and "可以查询的主题" in answer  # small talk is told where to look
    assert page.locator("#kb-chat .kb-notfound").last.is_visible()
    suggestion = page.locator("#kb-chat button", has_text="：").first  # "主题：示例问题"
    assert suggestion.is_visible()
    page.screenshot(path=str(SCREENSHOTS / "not-found.png"), full_page=True)
    topic_question = suggestion.inner_text().split("：", 1)[1].strip()
    suggestion.click()  # asks the topic's example question
    page.wait_for_function(
        """() => document.querySelectorAll('#kb-chat .kb-answer:not(.kb-muted)').length >= 2
                 && !document.querySelector('#kb-chat .kb-cursor')""", timeout=60_000)
    assert topic_question in page.locator("#kb-chat").inner_text()

    # --- Enterprise tab: a topic's entries, one opens its passage and article.
    page.get_by_role("tab", name="企业服务").click()
    page.wait_for_selector("#kb-entry-view .kb-entry", timeout=15_000)
    assert "阅读全文" in page.locator("#kb-entry-view").inner_text()
    page.locator("#kb-entries label").nth(0).click()
    page.locator("#kb-entry-view details.kb-article summary").click()
    page.wait_for_selector("#kb-entry-view details.kb-article[open] .kb-article-text", timeout=10_000)
    assert "<mark>" in page.locator("#kb-entry-view .kb-article-text").inner_html()  # the passage in its article
    page.screenshot(path=str(SCREENSHOTS / "enterprise.png"), full_page=True)

    # --- Staff: log in, upload a new document, refresh, see the report.
    log_in_as_staff(page, then="#kb-docs table")
    page.wait_for_function("() => document.querySelector('#kb-docs').innerText.includes('education.md')",
                           timeout=15_000)
    new_doc = server["tmp"] / "upload" / "停车补贴.md"
    new_doc.parent.mkdir()
    new_doc.write_text(PARKING_DOC, encoding="utf-8")
    page.locator("input[type=file][data-testid$='-upload-button']").set_input_files(str(new_doc))
    page.wait_for_function("() => document.querySelector('#kb-upload-msg').innerText.includes('已上传')",
                           timeout=20_000)
    assert (server["documents"] / "停车补贴.md").read_text(encoding="utf-8") == PARKING_DOC
    page.click("#kb-refresh-btn")
    page.wait_for_function("() => document.querySelector('#kb-refresh-msg').innerText.includes('索引更新完成')",
                           timeout=60_000)
    report = page.locator("#kb-refresh-msg").inner_text()
    assert "新增：1" in report and "停车补贴.md" in report and "用时" in report
    page.wait_for_function("() => document.querySelector('#kb-docs').innerText.includes('停车补贴.md')",
                           timeout=15_000)
    page.screenshot(path=str(SCREENSHOTS / "staff.png"), full_page=True)

    # --- The running server answers from the new index, without a restart.
    page.get_by_role("tab", name="市民问答").click()
    page.locator("#kb-chat button[aria-label='清空对话']").click()
    answer = ask(page, PARKING_QUESTION)
    assert PARKING_FACT in answer
    assert "停车补贴" in page.locator("#kb-chat details.kb-card summary").first.inner_text()
    assert page.outside_requests == [], page.outside_requests  # offline: nothing fetched from elsewhere

    # --- Phone width.
    phone = open_app(browser, url, width=390, height=844, mobile=True)
    assert "300余人" in ask(phone, "招聘会帮企业招到了多少人？")
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide at a 390px viewport (horizontal scrolling)"
    # The start of the answer is on screen (the app scrolls there when the answer is taller than the chat).
    answer_start_shown = """() => {
        const wrap = document.querySelector('#kb-chat .bubble-wrap');
        const rows = document.querySelectorAll('#kb-chat .message-row.bot-row');
        const top = rows[rows.length - 1].getBoundingClientRect().top - wrap.getBoundingClientRect().top;
        return top >= 0 && top < wrap.clientHeight - 40; }"""
    phone.wait_for_function(answer_start_shown, timeout=10_000)
    # ... and of the next ones too: after a reply taller than the chat (那融资方面呢？, 600 px in 523) the chat stayed
    # on it and the next reply began 750 px down, under the screen (QA, fourteenth session)
    # Shown for good, not in passing: the start stays on screen for 90 frames in a row (Gradio scrolls after a reply).
    stays_shown = f"""() => {{ window.kbShown = ({answer_start_shown})() ? (window.kbShown || 0) + 1 : 0;
                               return window.kbShown > 90; }}"""
    for question in ("那融资方面呢？", "济源路街道经济怎么样？"):
        ask(phone, question)
        phone.wait_for_function(stays_shown, polling="raf", timeout=10_000)
    phone.screenshot(path=str(SCREENSHOTS / "mobile.png"), full_page=True)
