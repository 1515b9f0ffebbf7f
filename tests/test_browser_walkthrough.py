"""Issue 12's browser walkthrough findings, each checked in headless Chromium on `kb-bot serve`.

Runs on the fake embedder (an instant index): what is checked here is the page, not the answers.
Grey text reaches WCAG AA, the chat input has a label, a chat message's accessible name is its text
(not HTML), an over-long question is said to be cut, no English is left in the Chinese interface
(toasts, progress text, button names), an English question gets English around its answer, and the
enterprise browser lists each passage once, keeps teacher recruitment out of 招聘用工, shows fresh
topic counts after a refresh made elsewhere, and points a search without hits to the chat and the topics.
"""

from __future__ import annotations

import re

import pytest

from test_browser import CHROMIUM, SCREENSHOTS, browser, log_in_as_staff, open_app  # noqa: F401  (browser is a fixture)
from test_web_app import contrast
from web_fixtures import copy_seed_documents, kb_bot_serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless browser test needs Chromium at /usr/bin/chromium"),
]

FINISHED = """(before) => document.querySelectorAll('#kb-chat .kb-answer:not(.kb-muted)').length > before
                            && !document.querySelector('#kb-chat .kb-cursor')"""
#: English that Gradio writes on its own and the app must not show in its Chinese interface.
ENGLISH = re.compile(r"processing \||queue: \d|Copy message|Select example|'s message|chatbot conversation|"
                     r"Invalid file type|^Warning$|^Close$")
LOAN_DOC = ("---\ntitle: 上街区中小企业贷款贴息办法\nunit: 上街区财政局\n---\n\n# 上街区中小企业贷款贴息办法\n\n"
            "上街区对中小企业的银行贷款给予贴息，帮助企业融资。\n")


@pytest.fixture
def fake_server(tmp_path):
    documents = copy_seed_documents(tmp_path / "documents")
    with kb_bot_serve(tmp_path, documents, KB_BOT_MODEL="fake", KB_BOT_UPLOAD_MAX_MB="0.05") as url:
        yield {"url": url, "documents": documents, "tmp": tmp_path}


def english_left(page) -> list[str]:
    """Visible text and accessible names on the page that are Gradio's English."""
    texts = page.evaluate("""() => [document.body.innerText,
        ...[...document.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label')),
        ...[...document.querySelectorAll('.toast-title')].map((e) => e.innerText.trim())]""")
    return [t for text in texts for t in text.splitlines() if ENGLISH.search(t.strip())]


def submit(page, question: str) -> None:
    before = page.locator("#kb-chat .kb-answer:not(.kb-muted)").count()
    page.fill("#kb-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(FINISHED, arg=before, timeout=60_000)


def test_citizen_chat_is_readable_labelled_and_chinese(fake_server, browser):  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_app(browser, fake_server["url"])

    # Grey text: subtitle, disclaimer, placeholder; WCAG AA is 4.5:1.
    white = "rgb(255, 255, 255)"
    for selector in ("#kb-header p", ".kb-muted"):
        color = page.locator(selector).first.evaluate("(e) => getComputedStyle(e).color")
        assert contrast(color, white) >= 4.5, (selector, color)
    placeholder = page.locator("#kb-question textarea").evaluate("(e) => getComputedStyle(e, '::placeholder').color")
    assert contrast(placeholder, white) >= 4.5, placeholder

    # The input is labelled; examples are named in Chinese.
    assert page.get_by_label("您的问题").count() == 1
    page.wait_for_selector("#kb-chat [aria-label^='示例问题：']", timeout=10_000)

    # An over-long question is said to be cut (a toast titled in Chinese), then answered.
    submit(page, "企业贷款" * 80)
    toast = page.locator(".toast-body").first
    toast.wait_for(timeout=10_000)
    page.wait_for_function("() => document.querySelector('.toast-title').innerText.trim().startsWith('提示')",
                           timeout=10_000)
    assert "只按前 300 个字回答" in toast.inner_text()

    # Messages are named by their text: no raw HTML in the accessible name.
    page.wait_for_selector("#kb-chat [aria-label^='回答：']", timeout=10_000)
    names = page.locator("#kb-chat [aria-label^='回答：'], #kb-chat [aria-label^='问题：']").evaluate_all(
        "(els) => els.map((e) => e.getAttribute('aria-label'))")
    assert names and not any("<" in name or "kb-answer" in name for name in names), names
    assert page.locator("#kb-chat button[aria-label='复制消息']").count() >= 1
    assert english_left(page) == []

    # An English question gets English around its answer (the answer quotes the Chinese documents).
    submit(page, "What does the district do to help companies get loans?")
    reply = page.locator("#kb-chat .message-row.bot-row").last.inner_text()
    assert re.search(r"Sources \(|No direct answer|Pick a topic|Sorry", reply), reply
    for chinese in ("来源（", "未找到直接答案", "出处文件", "换个问题试试", "正在查找"):
        assert chinese not in reply, (chinese, reply)
    assert english_left(page) == []
    page.screenshot(path=str(SCREENSHOTS / "walkthrough-chat.png"), full_page=True)


def test_enterprise_browser_lists_cleanly_and_stays_current(fake_server, browser):  # noqa: F811
    page = open_app(browser, fake_server["url"])
    page.get_by_role("tab", name="企业服务").click()
    page.wait_for_selector("#kb-entry-view .kb-entry", timeout=15_000)

    # 全部: each passage once.
    page.locator("#kb-topics label", has_text="全部").click()
    page.wait_for_function("""() => {
        const all = document.querySelector('#kb-topics').innerText.match(/全部（(\\d+)）/);
        return all && document.querySelectorAll('#kb-entries label').length === Number(all[1]); }""", timeout=15_000)
    labels = page.locator("#kb-entries label").all_inner_texts()
    summaries = [label.split("】", 1)[1] for label in labels]
    assert labels and len(summaries) == len(set(summaries)), labels
    count = int(re.search(r"全部（(\d+)）", page.locator("#kb-topics").inner_text()).group(1))
    assert count == len(labels)

    # 招聘用工: support for companies that need workers, not a school recruiting teachers.
    page.locator("#kb-topics label", has_text="招聘用工").click()
    page.wait_for_function("() => [...document.querySelectorAll('#kb-entries label')].every("
                           "(l) => l.innerText.includes('【招聘用工】'))", timeout=15_000)
    hiring = page.locator("#kb-entries label").all_inner_texts()
    assert hiring and not any("教师" in label for label in hiring), hiring

    # A search without hits points to the chat and the topics.
    page.fill("#kb-topic-search textarea, #kb-topic-search input", "火星移民补贴")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.body.innerText.includes('没有找到与“火星移民补贴”')", timeout=15_000)
    note = page.locator("#kb-topic-search ~ div, .kb-muted", has_text="没有找到").first.inner_text()
    assert "市民问答" in note and "主题" in note
    page.fill("#kb-topic-search textarea, #kb-topic-search input", "")

    # Counts go stale no more: staff add a document and refresh in another window; this page shows the new count
    # when the tab is opened again.
    financing = re.compile(r"融资贷款（(\d+)）")
    old = int(financing.search(page.locator("#kb-topics").inner_text()).group(1))
    staff = open_app(browser, fake_server["url"])
    log_in_as_staff(staff, then="#kb-docs table")
    # A file of the wrong type is refused in Chinese (Gradio's own check would say "Invalid file type").
    script = fake_server["tmp"] / "run.sh"
    script.write_text("echo hi", encoding="utf-8")
    assert staff.locator("input[type=file][data-testid$='-upload-button']").get_attribute("accept") == (
        ".md,.txt,.docx,.pdf,.html")  # the file chooser still offers the right types first
    staff.locator("input[type=file][data-testid$='-upload-button']").set_input_files(str(script))
    staff.wait_for_function("() => document.querySelector('#kb-upload-msg').innerText.includes('不支持的文件类型')",
                            timeout=20_000)
    # A file over the upload limit is refused by the browser: in Chinese too.
    big = fake_server["tmp"] / "big.md"
    big.write_text("大" * 40_000, encoding="utf-8")
    staff.locator("input[type=file][data-testid$='-upload-button']").set_input_files(str(big))
    staff.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"toast-text\"]')].some("
                            "(e) => e.innerText.includes('文件超过上传大小上限'))", timeout=20_000)
    (fake_server["documents"] / "loans.md").write_text(LOAN_DOC, encoding="utf-8")
    staff.click("#kb-refresh-btn")
    staff.wait_for_function("() => document.querySelector('#kb-refresh-msg').innerText.includes('索引更新完成')",
                            timeout=60_000)
    assert english_left(staff) == []
    page.get_by_role("tab", name="市民问答").click()
    page.get_by_role("tab", name="企业服务").click()
    page.wait_for_function("(old) => { const m = document.querySelector('#kb-topics').innerText.match(/融资贷款（(\\d+)）/);"
                           " return m && Number(m[1]) === old + 1; }", arg=old, timeout=15_000)
    assert english_left(page) == []
