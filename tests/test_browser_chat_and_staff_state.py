"""Web QA findings on what the page shows after the fact, each checked in headless Chromium on `kb-bot serve`.

Runs on the fake embedder (an instant index): what is checked is the page, not the answers. The chat's clear
(trash) button keeps off the messages when the chat is scrolled, on a desktop and a phone; earlier replies keep
no line pointing at topic buttons that only the latest reply has; and the staff-answer and upload messages that said
"takes effect after 更新索引" say it is in effect once the refresh has indexed the answer / the document.
"""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, SCREENSHOTS, browser, log_in_as_staff, open_app  # noqa: F401  (browser is a fixture)
from test_browser_walkthrough import fake_server, submit  # noqa: F401  (fake_server is a fixture)
from web_fixtures import PARKING_DOC

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless browser test needs Chromium at /usr/bin/chromium"),
]

#: On the fake embedder a greeting comes back not found, with topic buttons and the line pointing at them.
WITH_TOPICS = "你好"
QUESTIONS = ("招聘会帮企业招到了多少人？", "开发区帮企业贷了多少款？", "济源路街道经济怎么样？")

# Scrolls the chat so that message row ``index`` starts at the chat's top edge (as a visitor scrolling back up
# sees it), then returns the clear button's box and the boxes of the rows and message buttons now in the chat's view.
SCROLL_AND_MEASURE = """(index) => {
  const wrap = document.querySelector('#kb-chat .bubble-wrap');
  const row = document.querySelectorAll('#kb-chat .message-row')[index];
  wrap.scrollTop += row.getBoundingClientRect().top - wrap.getBoundingClientRect().top - 2;
  const box = (e) => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left,
                                                                     right: r.right, text: e.innerText.slice(0, 20)}; };
  const view = wrap.getBoundingClientRect();
  const parts = [...document.querySelectorAll('#kb-chat .message-row, #kb-chat .message-buttons .icon-button-wrapper')]
    .map(box).filter((b) => b.bottom > view.top && b.top < view.bottom);
  return {clear: box(document.querySelector("#kb-chat button[aria-label='清空对话']")), parts,
          scrolled: wrap.scrollTop};
}"""


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def test_clear_button_keeps_off_the_messages_and_history_points_at_nothing(fake_server, browser):  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height, mobile in ((1280, 900, False), (390, 844, True)):
        page = open_app(browser, fake_server["url"], width=width, height=height, mobile=mobile)
        submit(page, WITH_TOPICS)
        assert page.locator("#kb-chat .kb-suggest").count() == 1  # the line, under the reply with the buttons
        for question in QUESTIONS:
            submit(page, question)

        # Only the latest reply may point at topic buttons: the chat shows buttons under it alone.
        replies = page.locator("#kb-chat .message-row.bot-row")
        assert replies.count() == 1 + len(QUESTIONS)
        assert [replies.nth(i).locator(".kb-suggest").count() for i in range(replies.count() - 1)] == [0] * 3
        assert "可以查询的主题" in replies.first.inner_text()  # the reply itself still names the topics

        # Scrolled back to each message in turn (the visitor's own bubbles end where the button floats), the clear
        # button covers none of what is in view.
        rows = page.locator("#kb-chat .message-row").count()
        for index in range(rows - 1):
            seen = page.evaluate(SCROLL_AND_MEASURE, index)
            assert seen["scrolled"] > 0 and seen["parts"]
            covered = [part for part in seen["parts"] if overlaps(seen["clear"], part)]
            assert not covered, (width, index, seen["clear"], covered)
        page.screenshot(path=str(SCREENSHOTS / f"chat-scrolled-{width}.png"))


def test_the_staff_answer_message_says_in_effect_after_the_refresh(fake_server, browser):  # noqa: F811
    page = open_app(browser, fake_server["url"])
    log_in_as_staff(page, then="#kb-faq-save")
    page.fill("#kb-faq-questions textarea", "上街区的房价是多少？")
    page.fill("#kb-faq-answer textarea", "区政策文章不涉及房价，请咨询区住建局。")
    page.click("#kb-faq-save")
    message = "document.querySelector('#kb-faq-msg').innerText"
    page.wait_for_function(f"() => {message}.includes('已保存') && {message}.includes('更新索引”后生效')",
                           timeout=20_000)
    page.wait_for_function("() => document.querySelector('#kb-faq-table').innerText.includes('待更新索引')",
                           timeout=10_000)
    # The same refresh takes in an uploaded document: its message said 点击“更新索引”后即可用于问答 until then.
    new_doc = fake_server["tmp"] / "停车补贴.md"
    new_doc.write_text(PARKING_DOC, encoding="utf-8")
    page.locator("input[type=file][data-testid$='-upload-button']").set_input_files(str(new_doc))
    uploaded = "document.querySelector('#kb-upload-msg').innerText"
    page.wait_for_function(f"() => {uploaded}.includes('已上传') && {uploaded}.includes('更新索引')", timeout=20_000)

    page.click("#kb-refresh-btn")
    page.wait_for_function("() => document.querySelector('#kb-refresh-msg').innerText.includes('索引更新完成')",
                           timeout=60_000)
    page.wait_for_function(f"() => {message}.includes('已生效') && !{message}.includes('后生效')", timeout=15_000)
    page.wait_for_function(f"() => {uploaded}.includes('已生效') && {uploaded}.includes('停车补贴.md') "
                           f"&& !{uploaded}.includes('更新索引')", timeout=15_000)
    page.wait_for_function("""() => { const t = document.querySelector('#kb-faq-table').innerText;
                                      return t.includes('使用中') && !t.includes('待更新索引'); }""", timeout=10_000)
    page.screenshot(path=str(SCREENSHOTS / "staff-answer-in-effect.png"), full_page=True)
