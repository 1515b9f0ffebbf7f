"""The citizen tab (市民问答): a chat whose answers stream in, with source cards, examples and feedback.

Answers come from :class:`~kb_bot.web.facade.WebKB` (follow-ups completed from the earlier
questions, every question logged). The three outcomes look different: answered (the quote
and its open source card), related (amber badge 未找到直接答案, nothing marked as the answer)
and not found (topics offered as buttons that ask their example question). A question in
English gets English around its answer. Thumbs up/down go to the question log (joined to the
question by id). Every handler returns a named result (see ``wiring.py``).
"""

from __future__ import annotations

import html
import logging
import time
from dataclasses import dataclass
from typing import Any, Iterator

import gradio as gr

from ..errors import KbBotError
from . import render
from .facade import MAX_QUESTION_CHARS, Question, WebKB
from .feedback import rating_of
from .wiring import for_gradio, outputs

log = logging.getLogger(__name__)

STREAM_STEP_CHARS = 3
STREAM_DELAY = 0.02

# After an answer: when its first line is above the top of the chat (a phone: Gradio scrolls to the bottom, to the
# end of the last source card or to the topic buttons under the answer), show the first line instead. Waits (frame
# by frame) for the final message to be rendered, scrolls to its start, and puts the start back when Gradio's
# autoscroll, which runs about 300 ms after the last update, takes the chat to its bottom again; it stops doing so as
# soon as the visitor scrolls, taps or types, and after two seconds at most.
SHOW_ANSWER_START = """() => {
  const wrap = () => document.querySelector('#kb-chat .bubble-wrap');
  const lastBot = () => { const rows = document.querySelectorAll('#kb-chat .message-row.bot-row');
                          return rows[rows.length - 1]; };
  const rendered = () => { const row = lastBot();
    return row && !row.querySelector('.kb-cursor') && !row.querySelector('.kb-answer.kb-muted'); };
  const showStart = () => {
    const chat = wrap(), row = lastBot();
    if (!chat || !row) return;
    const offset = row.getBoundingClientRect().top - chat.getBoundingClientRect().top;
    // above the view, or below it: after a long first answer on a phone the chat stayed on it and the new
    // reply began 200 px under the screen (QA, fourteenth session)
    if (offset < 0 || offset > chat.clientHeight - 40) chat.scrollTo({top: chat.scrollTop + offset - 8, behavior: 'instant'});
  };
  const hold = () => {
    const chat = wrap();
    if (!chat) return;
    let holding = true;
    const stop = () => { holding = false; };
    for (const type of ['wheel', 'touchstart', 'keydown', 'pointerdown']) {
      chat.addEventListener(type, stop, {once: true, passive: true});
    }
    setTimeout(stop, 2000);
    const again = () => {
      if (!holding) { chat.removeEventListener('scroll', again); return; }
      if (chat.scrollHeight - chat.scrollTop - chat.clientHeight < 2) showStart();
    };
    chat.addEventListener('scroll', again);
  };
  const started = performance.now();
  const wait = () => {
    if (rendered()) { showStart(); hold(); return; }
    if (performance.now() - started < 10000) requestAnimationFrame(wait);
  };
  requestAnimationFrame(wait);
}"""

WELCOME = ("### 您好！我是上街区政策问答助手\n"
           "请直接输入您关心的问题，例如企业融资、招聘用工、水电保障、教育等。"
           "我会从上街区发布的文章中找出答案，并附上原文出处。")
DISCLAIMER = ('<div class="kb-muted">回答摘自上街区公开发布的文章，仅供参考，具体以相关部门正式文件为准。'
              '欢迎点击回答下方的“赞”或“踩”帮助我们改进。</div>')


@dataclass(frozen=True)
class QuestionAdded:
    """After a question is submitted: the input box's new value ("" clears it) and the chat with the question."""

    question: Any
    chat: list


@dataclass(frozen=True)
class ChatStep:
    """One step of an answer: the chat, and the answers so far by message index (for feedback)."""

    chat: list
    records: dict


@dataclass(frozen=True)
class ChatPicked:
    """The chat with a clicked example or suggested topic's question added."""

    chat: list


def message_text(message: Any) -> str:
    """The text of a chat message, whether its content is a string or a list of parts (a question as typed: the
    entities and line breaks ``add_question`` shows it with are read back)."""
    content = message.get("content") if isinstance(message, dict) else getattr(message, "content", message)
    if isinstance(content, str):
        return html.unescape(content.replace("<br>", "\n"))
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, (list, tuple)):
        return " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return ""


def _role(message: Any) -> str | None:
    return message.get("role") if isinstance(message, dict) else getattr(message, "role", None)


def _bot(html: str) -> dict:
    return {"role": "assistant", "content": html}


def _earlier(message: Any) -> Any:
    """A reply that a newer question has pushed up the chat: its topic buttons and the line pointing at them go,
    since the chat only offers buttons under the latest reply. Gradio hands messages back as dicts whose content
    is a string or a list of text parts; anything else is left as it is."""
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return message
    content = message.get("content")
    if isinstance(content, str):
        content = render.without_topic_pointer(content)
    elif isinstance(content, list):
        content = [dict(part, text=render.without_topic_pointer(part["text"]))
                   if isinstance(part, dict) and isinstance(part.get("text"), str) else part for part in content]
    return {**{k: v for k, v in message.items() if k != "options"}, "content": content}


class CitizenTab:
    """The chat: its widgets (``build``), its events (``wire``) and their handlers."""

    def __init__(self, web: WebKB):
        self.web = web

    # -- handlers ----------------------------------------------------------------------

    def api_ask(self, question: str, history: list[str] | None = None) -> dict:
        """Answer a question from the documents: {question, found, status, confidence, answer, citations,
        suggestions, understood_as}. ``history``: the earlier questions of the conversation, oldest first (optional)."""
        return self.web.api_answer(question, history or ())

    def add_question(self, text: str, history: list) -> QuestionAdded:
        """Put the typed question into the chat (cleaned; a question over the limit is cut, and the visitor told)."""
        question = Question.of(text)
        if not question.text:
            return QuestionAdded(gr.update(), list(history or []))
        if question.cut:
            gr.Warning(render.words(question.text)["cut"].format(n=MAX_QUESTION_CHARS), title="提示")
        # The box is locked until the answer is in (``wire``): a question sent while an answer streamed was
        # added to the chat, then overwritten by the streaming answer's next step, and never answered.
        # Shown as typed: <b>, <img …> or **…** in a question are characters, not markup (the chat renders HTML
        # and Markdown); ``message_text`` reads the question back.
        return QuestionAdded(gr.update(value="", interactive=False),
                             list(history or []) + [{"role": "user", "content": render.text_html(question.text)}])

    def respond(self, history: list, records: dict) -> Iterator[ChatStep]:
        """Answer the chat's last question: a "looking" line, then the answer streaming in, then its sources."""
        history, records = list(history or []), dict(records or {})
        if not history or _role(history[-1]) != "user":
            yield ChatStep(list(history), dict(records))
            return
        question = message_text(history[-1]).strip()
        earlier = [message_text(m).strip() for m in history[:-1] if _role(m) == "user"]
        w = render.words(question)
        history = [_earlier(m) for m in history[:-1]] + history[-1:]
        history.append(_bot(f'<div class="kb-answer kb-muted">{w["looking"]}</div>'))
        yield ChatStep(list(history), dict(records))
        try:
            asked = self.web.answer(question, earlier)
        except KbBotError as exc:
            log.warning("answering %r failed: %s", question, exc)
            history[-1] = _bot(f'<div class="kb-answer kb-notfound">{w["failed"].format(reason=render.esc(exc.message))}'
                               "</div>")
            yield ChatStep(list(history), dict(records))
            return
        answer = asked.answer
        understood = render.understood_html(answer)
        for partial in render.stream_answer(answer, STREAM_STEP_CHARS):
            history[-1] = _bot(understood + partial)
            yield ChatStep(list(history), dict(records))
            time.sleep(STREAM_DELAY)  # a readable pace for the streamed text, not a wait for anything
        final = _bot(understood + render.answer_html(answer))
        options = render.suggestion_options(answer, self.web.guide())
        if options:
            final["options"] = options
        history[-1] = final
        records[str(len(history) - 1)] = dict(self.web.answer_json(answer), log_id=asked.log_id)
        yield ChatStep(list(history), dict(records))

    def pick_example(self, history: list, evt: gr.SelectData) -> ChatPicked:
        """A clicked example question or suggested topic is asked."""
        value = evt.value
        text = value.get("text", "") if isinstance(value, dict) else str(value or "")
        chat = list(history or [])
        return ChatPicked(chat + [{"role": "user", "content": text}] if text else chat)

    def on_feedback(self, records: dict, evt: gr.LikeData) -> None:
        """A thumbs up/down: the rating on the question's line in the question log."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        record = (records or {}).get(str(index))
        if record is None:
            log.info("feedback on message %s without a recorded answer; ignored", index)
            return
        self.web.feedback(record.get("log_id"), rating_of(evt.liked))

    def showcase(self, limit: int = 6) -> list[str]:
        """The example questions under the empty chat: one per topic, those the documents answer first.

        A showcase question that comes back 未找到直接答案 tells a first visitor the tool does not work (QA: five
        of six did, each quoting its answer). Each topic's question is asked once when the app is built (about
        25 ms each); an error keeps the guide's order.
        """
        guide = self.web.guide()
        candidates = render.example_questions(guide, limit=len(getattr(guide, "groups", ()) or ()))
        try:
            answered = {q for q in candidates if self.web.kb.ask(q, _literal=True).status == "answered"}
        except KbBotError as exc:
            log.warning("example questions not checked: %s", exc)
            answered = set()
        return sorted(candidates, key=lambda q: q not in answered)[:limit]  # stable: guide order within each

    def clear_chat(self) -> ChatStep:
        """The chat emptied, and the answers it held forgotten."""
        return ChatStep([], {})

    # -- widgets and events ----------------------------------------------------------------

    def build(self) -> None:
        """The chat, the question box and the note under them, in the current Blocks context."""
        examples = [{"text": q} for q in self.showcase()]
        self.records = gr.State({})
        self.chat = gr.Chatbot(
            label="对话",
            show_label=False,
            latex_delimiters=[],  # document text is never typeset: "$$" in an article stays text
            elem_id="kb-chat", height="62vh", min_height=360,
            placeholder=WELCOME,
            examples=examples or None,
            feedback_options=("Like", "Dislike"),
            buttons=["copy"],
            layout="bubble",
            autoscroll=True,
        )
        # A visible label would crowd the chat; show_label=False keeps it as the input's accessible name.
        self.question = gr.Textbox(label="您的问题", show_label=False,
                                   placeholder="请输入您的问题，例如：企业缺工人，区里能帮忙招人吗？",
                                   submit_btn="提问", max_lines=4, elem_id="kb-question", autofocus=False)
        gr.Markdown(DISCLAIMER)

    def wire(self, concurrency: int) -> None:
        """The chat's events. Answers share one concurrency group; our own "looking" line replaces Gradio's
        English progress text ("processing | 0.3s"), hence show_progress="hidden"."""
        private = {"api_visibility": "private", "show_progress": "hidden"}
        answering = {"concurrency_id": "kb-answer", "concurrency_limit": concurrency, **private}
        step = outputs(ChatStep, self)
        respond = for_gradio(self.respond)
        # The question is added through the queue so that the "question cut" warning reaches the browser.
        unlock = {"fn": lambda: gr.update(interactive=True), "inputs": None, "outputs": [self.question],
                  "queue": False, **private}  # .then runs after a failed answer too: the box never stays locked
        self.question.submit(for_gradio(self.add_question), [self.question, self.chat], outputs(QuestionAdded, self),
                             concurrency_id="kb-add", concurrency_limit=None, **private).then(
            respond, [self.chat, self.records], step, **answering).then(**unlock).then(
            None, js=SHOW_ANSWER_START, queue=False, **private)
        for trigger in (self.chat.example_select, self.chat.option_select):
            trigger(for_gradio(self.pick_example), [self.chat], outputs(ChatPicked, self), queue=False, **private).then(
                lambda: gr.update(interactive=False), None, [self.question], queue=False, **private).then(
                respond, [self.chat, self.records], step, **answering).then(**unlock).then(
                None, js=SHOW_ANSWER_START, queue=False, **private)
        self.chat.like(for_gradio(self.on_feedback), [self.records], None, queue=False, **private)
        self.chat.clear(for_gradio(self.clear_chat), None, step, queue=False, **private)
        gr.api(self.api_ask, api_name="ask", concurrency_id="kb-answer", concurrency_limit=concurrency)
