"""The look of the web app: theme, CSS, the page head script, and Gradio's strings in Chinese.

Colours are chosen for WCAG AA (4.5:1) on the white page: ``GREY_TEXT`` for secondary text
(subtitle, notes, source lines) and ``PLACEHOLDER_TEXT`` for input placeholders;
``tests/test_web_app.py`` computes both ratios from these constants.
"""

from __future__ import annotations

import gradio as gr

#: Tailwind slate-600 and slate-500 (the theme's neutral hue): 7.6:1 and 4.8:1 on white, where slate-400 gave 2.5:1.
GREY_TEXT = "#475569"
PLACEHOLDER_TEXT = "#64748b"

# Chinese fonts first: a generic family alone may fall back to Japanese glyph forms on Linux.
FONTS = ["PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
         "WenQuanYi Micro Hei", "system-ui", "-apple-system", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Noto Sans Mono CJK SC", "monospace"]

CSS = """
.gradio-container { max-width: 1000px !important; margin: 0 auto !important; }
#kb-header { padding: 6px 2px 2px; }
#kb-header h1 { font-size: 1.6rem; font-weight: 700; margin: 0 0 4px; letter-spacing: .02em; }
#kb-header p { margin: 0; color: var(--body-text-color-subdued); line-height: 1.6; }
.kb-answer { line-height: 1.8; }
.kb-answer .kb-ref { color: var(--color-accent); font-size: .72em; margin: 0 1px; }
.kb-cursor { color: var(--color-accent); animation: kb-blink 1s steps(1) infinite; }
@keyframes kb-blink { 50% { opacity: 0; } }
.kb-notfound { color: var(--body-text-color); }
.kb-related { border-left: 4px solid #b45309; padding-left: .7em; }
.kb-badge { display: inline-block; font-size: .78em; font-weight: 600; padding: .05em .6em; border-radius: 999px;
            margin-bottom: .3em; }
.kb-badge-related { background: #fef3c7; color: #7c2d12; }
.kb-suggest { margin-top: .4em; font-size: .9em; color: var(--body-text-color-subdued); }
.kb-sources { margin-top: .7em; }
.kb-sources-title { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .2em; }
details.kb-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .45em .75em;
                  margin: .4em 0; background: var(--background-fill-primary); }
details.kb-card > summary { cursor: pointer; line-height: 1.55; }
.kb-num { display: inline-block; min-width: 1.5em; padding: 0 .3em; border-radius: 999px; text-align: center;
          background: var(--color-accent); color: #fff; font-size: .75em; font-weight: 600; }
.kb-where { font-size: .85em; color: var(--body-text-color-subdued); }
blockquote.kb-quote { margin: .55em 0 .35em !important; padding: .15em .8em !important; line-height: 1.8;
                      border-left: 3px solid var(--color-accent) !important; font-style: normal !important; }
.kb-answer mark, .kb-quote mark, .kb-article-text mark { background: #fde68a; color: #1f2937; padding: 0 .1em;
                                                         border-radius: 3px; }
.kb-doc { font-size: .8em; color: var(--body-text-color-subdued); }
.kb-entry h3 { margin: .2em 0 .1em; font-size: 1.1rem; }
.kb-entry-topic { display: inline-block; font-size: .8em; padding: .05em .6em; border-radius: 999px;
                  background: var(--color-accent-soft); color: var(--color-accent); }
.kb-article-text p { line-height: 1.8; margin: .5em 0; }
#kb-entries .wrap { flex-direction: column; align-items: stretch; }
#kb-entries label { width: 100%; }
.kb-muted { color: var(--body-text-color-subdued); font-size: .9em; }
/* Gradio's clear (trash) button floats over the chat's top right corner, 6 px from the edge and 23 px wide, where
   the visitor's own bubbles and their copy button end (20 px from the edge): scrolled, it covered the top one
   (web QA). The right-aligned rows keep out of its column; the answers, 40 px from the edge, already do. */
#kb-chat .message-row.user-row, #kb-chat .message-buttons-right .icon-button-wrapper { margin-right: 36px !important; }
footer { display: none !important; }
#kb-docs table { font-size: .88em; }
/* Gradio's progress line is English ("queue: 1/2 | 0.4s", "processing | 0.4s") with no translation key; the app
   says what is happening in its own words (正在查找相关政策……, 正在更新索引……), so the line is not shown. */
.progress-text { display: none !important; }
@media (max-width: 520px) {
  #kb-header h1 { font-size: 1.3rem; }
  #kb-header p { font-size: .9rem; }
}
"""

# Gradio writes some names and titles in English with no translation key: a chat message's accessible name is
# "bot's message: <the raw HTML>", an example button's "Select example 1: …", the chat's "chatbot conversation",
# a toast's title its type ("Warning"), the browser's refusal of a file over the upload limit "File(s) exceed the
# maximum allowed size of …". The page renames and rewords them as they appear: a message by its visible text,
# the rest in Chinese. It also gives the staff upload's file chooser its filter (see staff_tab.UPLOAD_TYPES).
PAGE_FIXES_JS = """
(() => {
  const roles = {bot: '回答', assistant: '回答', user: '问题'};
  const names = {'chatbot conversation': '对话', 'Close': '关闭', 'More tabs': '更多标签页',
                 'File upload': '上传文件'};
  const titles = {Warning: '提示', Info: '提示', Error: '出错了', Success: '完成'};
  const fixLabel = (el) => {
    const label = el.getAttribute('aria-label') || '';
    let named = names[label] ?? null;
    const message = label.match(/^(\\w+)'s message: /);
    const example = label.match(/^Select example \\d+: ([\\s\\S]*)$/);
    if (message) {
      named = (roles[message[1]] || '消息') + '：' + (el.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 300);
    } else if (example) {
      named = '示例问题：' + example[1];
    }
    if (named !== null && named !== label) el.setAttribute('aria-label', named);
  };
  const fix = () => {
    document.querySelectorAll('[aria-label]').forEach(fixLabel);
    document.querySelectorAll('[data-testid="toast-text"]').forEach((el) => {
      const tooBig = el.innerText.match(/^File\\(s\\) exceed the maximum allowed size of (.+?): ([\\s\\S]*)$/);
      if (tooBig) el.innerText = `文件超过上传大小上限（${tooBig[1]}）：${tooBig[2]}`;
    });
    document.querySelectorAll('.toast-title').forEach((el) => {
      const node = el.firstChild;
      if (node && node.nodeType === 3 && titles[node.data.trim()]) node.data = titles[node.data.trim()] + ' ';
    });
    document.querySelectorAll('#kb-upload-btn input[type=file], input[type=file][data-testid$="-upload-button"]')
      .forEach((el) => { if (el.getAttribute('accept') !== UPLOAD_ACCEPT) el.setAttribute('accept', UPLOAD_ACCEPT); });
  };
  let pending = false;
  const later = () => { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; fix(); }); } };
  const start = () => new MutationObserver(later).observe(document.body, {subtree: true, childList: true,
      characterData: true, attributes: true, attributeFilter: ['aria-label']});
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""

#: The file types the staff upload accepts (checked again on the server, with a message in Chinese).
UPLOAD_TYPES = (".md", ".txt", ".docx", ".pdf", ".html")

# Gradio scopes rules inside @media to the app's content, so the page padding is set from <head>.
HEAD = ("""<style>
@media (max-width: 520px) {
  .gradio-container .main.app { padding-left: 8px !important; padding-right: 8px !important; }
}
</style>
<script>""" + PAGE_FIXES_JS.replace("UPLOAD_ACCEPT", repr(",".join(UPLOAD_TYPES))) + "</script>")


def make_theme() -> gr.themes.Base:
    """A light theme on the system's fonts (nothing fetched from the network), grey text at WCAG AA contrast."""
    return gr.themes.Soft(primary_hue="blue", secondary_hue="sky", neutral_hue="slate",
                          font=FONTS, font_mono=MONO_FONTS, radius_size="md").set(
        body_text_color_subdued=GREY_TEXT, input_placeholder_color=PLACEHOLDER_TEXT)


#: Gradio's own interface strings that its Chinese translation lacks (shown in English otherwise).
UI_TRANSLATIONS = {"chatbot.copy_message": "复制消息", "chatbot.copied_message": "已复制", "chatbot.retry": "重试",
                   "chatbot.undo": "撤销", "chatbot.edit": "编辑", "chatbot.submit": "提交", "chatbot.cancel": "取消"}


def i18n() -> gr.I18n:
    """The translations above for Chinese browsers."""
    return gr.I18n(**{"zh-CN": UI_TRANSLATIONS, "zh": UI_TRANSLATIONS})
