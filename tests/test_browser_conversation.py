"""End to end in headless Chromium: a follow-up in the chat, the staff insight view, a staff answer.

A citizen asks 招聘会帮企业招到了多少人？ then 那融资方面呢？ (answered with the line that says how it
was understood), then a question the articles do not answer. Staff log in, see that question
in the insight view, write a staff answer, refresh the index, and the same question is now
answered as 工作人员解答. Screenshots go to a temporary folder (or KB_BOT_SCREENSHOT_DIR).
"""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, SCREENSHOTS, ask, browser, log_in_as_staff, open_app, server  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless browser test needs Chromium at /usr/bin/chromium"),
]

UNANSWERED = "退休以后每个月养老金能领多少？"  # off the articles' topics: not found


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours."""
    def luminance(css: str) -> float:
        channels = [float(x) / 255 for x in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_follow_up_insight_and_staff_answer(server, browser):  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_app(browser, server["url"])

    # --- Accessibility fixes: the chat input has a label; grey text reaches WCAG AA (4.5:1).
    assert page.get_by_label("您的问题").count() >= 1
    for selector in ("#kb-header p", ".kb-muted"):
        color = page.locator(selector).first.evaluate("(e) => getComputedStyle(e).color")
        assert contrast(color, "rgb(255, 255, 255)") >= 4.5, (selector, color)

    # --- A follow-up: answered from the earlier turn, with how it was understood shown.
    assert "300余人" in ask(page, "招聘会帮企业招到了多少人？")
    answer = ask(page, "那融资方面呢？")
    assert "2600万元" in answer
    assert page.locator("#kb-chat button[aria-label='复制消息']").count() >= 1  # no "Copy message" left
    understood = page.locator("#kb-chat .kb-understood").last
    assert understood.is_visible() and "按“" in understood.inner_text() and "融资" in understood.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "follow-up.png"), full_page=True)

    # --- A question the articles do not answer is logged.
    page.locator("#kb-chat button[aria-label='清空对话']").click()
    assert "没有回答这个问题" in ask(page, UNANSWERED)

    # --- Staff: the insight view lists it.
    log_in_as_staff(page, then="#kb-insight-load")
    page.click("#kb-insight-load")
    page.wait_for_function(
        "(q) => document.querySelector('#kb-insight-unanswered').innerText.includes(q)", arg=UNANSWERED,
        timeout=30_000)
    assert "共 3 个问题" in page.locator("#kb-insight-summary").inner_text()
    page.locator("#kb-insight-unanswered").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "staff-insight.png"), full_page=True)

    # --- A staff answer for it, then refresh the index.
    page.fill("#kb-faq-questions textarea", UNANSWERED)
    page.fill("#kb-faq-answer textarea", "区政策文章不涉及养老金标准。养老金可向区社会保险中心咨询。")
    page.click("#kb-faq-save")
    page.wait_for_function("() => document.querySelector('#kb-faq-msg').innerText.includes('已保存')", timeout=20_000)
    page.click("#kb-refresh-btn")
    page.wait_for_function("() => document.querySelector('#kb-refresh-msg').innerText.includes('索引更新完成')",
                           timeout=90_000)
    assert "faq/" in page.locator("#kb-refresh-msg").inner_text()

    # --- The same question is now answered by the staff answer.
    page.get_by_role("tab", name="市民问答").click()
    page.locator("#kb-chat button[aria-label='清空对话']").click()
    answer = ask(page, UNANSWERED)
    assert "工作人员解答" in answer and "社会保险中心" in answer
    assert "工作人员解答" in page.locator("#kb-chat details.kb-card summary").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "staff-answer.png"), full_page=True)
    assert page.outside_requests == [], page.outside_requests

    # --- On a phone the long answer shows its first line, not the end of its last source card.
    phone = open_app(browser, server["url"], width=390, height=700, mobile=True)
    ask(phone, "那个直播电商基地现在入驻了多少企业、招租面积多大？")  # answered: its first source card opens
    phone.wait_for_function("""() => {
        const wrap = document.querySelector('#kb-chat .bubble-wrap');
        const rows = document.querySelectorAll('#kb-chat .message-row.bot-row');
        const offset = rows[rows.length - 1].getBoundingClientRect().top - wrap.getBoundingClientRect().top;
        return offset >= 0 && offset < 40; }""", timeout=10_000)
    phone.screenshot(path=str(SCREENSHOTS / "mobile-answer-start.png"))
