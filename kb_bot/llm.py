"""Optional generative answers from an OpenAI-compatible chat endpoint (Ollama, vLLM, hosted).

Off unless ``KB_BOT_LLM_URL`` (e.g. ``http://127.0.0.1:11434/v1``) and ``KB_BOT_LLM_MODEL`` are set.
The model sees only the passages the extractive answer cites and is told to answer from
them alone; the answer keeps the extractive answer's citations. Any error, timeout or empty
reply falls back to the extractive answer, so the chat never breaks because of the model.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import replace
from typing import Sequence

from .answer import Answer
from .retrieval import SearchHit
from .settings import Settings

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "你是上街区政策知识库的问答助手。只根据用户提供的资料回答，不要使用资料以外的知识。"
    "回答简洁（不超过三句话），数字、名称和日期必须与资料完全一致，并在句末用 [编号] 标注出处。"
    "如果资料没有回答问题，就回答“资料中没有相关信息”。"
    "Answer in the language of the question."
)


def build_messages(question: str, answer: Answer) -> list[dict[str, str]]:
    """Chat messages: the instructions, then the cited passages and the question."""
    passages = "\n\n".join(
        f"[{number}] {c.title}{' / ' + c.section if c.section else ''}\n{c.text}"
        for number, c in enumerate(answer.citations, start=1)
    )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"资料：\n{passages}\n\n问题：{question}"},
    ]


def chat_completion(url: str, model: str, messages: Sequence[dict[str, str]], timeout: float) -> str:
    """POST ``{url}/chat/completions`` and return the first choice's text."""
    endpoint = url.rstrip("/")
    if not endpoint.endswith("/chat/completions"):
        endpoint += "/chat/completions"
    body = json.dumps({"model": model, "messages": list(messages), "temperature": 0.0, "stream": False}).encode()
    headers = {"Content-Type": "application/json"}
    key = os.environ.get("KB_BOT_LLM_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = json.loads(response.read().decode("utf-8"))
    return str(payload["choices"][0]["message"]["content"]).strip()


def generate_answer(answer: Answer, hits: Sequence[SearchHit], settings: Settings) -> Answer:
    """The model's answer from the cited passages, or ``answer`` unchanged on any failure."""
    if not (settings.llm_url and settings.llm_model and answer.found and answer.citations):
        return answer
    try:
        text = chat_completion(settings.llm_url, settings.llm_model, build_messages(answer.question, answer),
                               settings.llm_timeout)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.warning("LLM endpoint failed (%s: %s); using the extractive answer", type(exc).__name__, exc)
        return answer
    if not text:
        log.warning("LLM endpoint returned an empty answer; using the extractive answer")
        return answer
    return replace(answer, answer=text, mode="llm")
