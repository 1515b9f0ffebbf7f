"""The web app: citizen chat, enterprise support lookup and a staff tab, on Gradio.

``serve(kb)`` runs it (``kb-bot serve``); ``build_app(kb)`` returns the ``gr.Blocks`` for tests.
Each tab is a module that builds its own widgets and handlers over the typed facade
``facade.WebKB``:

* 市民问答 — ``citizen.py``: the chat (answers stream in, source cards, examples, suggested
  topics, thumbs up/down).
* 企业服务 — ``enterprise.py``: the topic guide, searchable; an entry opens its passage and article.
* 工作人员 — ``staff_tab.py`` (widgets) over ``staff.py`` (actions) and ``insight.py`` (question
  statistics, staff answers): for a logged-in staff user only.

The chat's answer function is also the named API endpoint ``/ask``
(``Client(url).predict(question, api_name="/ask")`` returns ``answer_to_json``'s dict plus
``understood_as``). All UI-only events are private. Analytics are off and the theme uses
system fonts only, so the app makes no outside requests.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from ..engine import KnowledgeBase  # noqa: E402
from ..errors import KbBotError  # noqa: E402
from .citizen import CitizenTab  # noqa: E402
from .enterprise import EnterpriseTab  # noqa: E402
from .facade import MAX_QUESTION_CHARS, WebKB, web_kb  # noqa: E402,F401  (MAX_QUESTION_CHARS: for callers)
from .security import security_middleware  # noqa: E402
from .staff import staff_for  # noqa: E402
from .staff_tab import StaffTab  # noqa: E402
from .theme import CSS, HEAD, i18n, make_theme  # noqa: E402

APP_TITLE = "上街区政策问答"
APP_DESCRIPTION = "依据上街区公开发布的政策与新闻文章，为市民和企业解答问题，并注明原文出处。"
QUEUE_PER_WORKER = 16


def launch_options(kb: KnowledgeBase | WebKB) -> dict[str, Any]:
    """``launch()`` arguments shared by ``serve`` and tests: theme, CSS, upload limit, no SSR, no footer."""
    web = web_kb(kb)
    return {
        "theme": make_theme(),
        "css": CSS,
        "head": HEAD,
        "ssr_mode": False,
        "footer_links": [],
        "max_file_size": int(web.settings.upload_max_mb * 1024 * 1024),
        "show_error": False,  # an unexpected error shows a generic message, not Python internals
        "i18n": i18n(),
        # Security headers (CSP), staff login outside the queue, per-client limits; no public /monitoring.
        "enable_monitoring": False,
        "app_kwargs": {"middleware": [security_middleware(staff_for(web).gate, web.settings.rate_limit_per_minute)]},
    }


def build_app(kb: KnowledgeBase | WebKB) -> gr.Blocks:
    """The Gradio app for ``kb`` (not launched). Use ``launch_options(kb)`` when launching.

    For tests the app carries its parts: ``kb_web`` (the facade), ``kb_tabs`` (``citizen``, ``enterprise``,
    ``staff``: their handlers return named results), ``kb_staff`` (staff actions), ``kb_insight``, and
    ``kb_handlers`` (the handlers by name).
    """
    web = web_kb(kb)
    staff = staff_for(web)
    concurrency = max(1, int(web.settings.concurrency))
    citizen, enterprise, staff_tab = CitizenTab(web), EnterpriseTab(web), StaffTab(staff)

    with gr.Blocks(title=APP_TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.HTML(f'<div id="kb-header"><h1>{APP_TITLE}</h1><p>{APP_DESCRIPTION}</p></div>')
        with gr.Tabs():
            with gr.Tab("市民问答", id="chat"):
                citizen.build()
            enterprise.build()
            with gr.Tab("工作人员", id="staff"):
                staff_tab.build()
        citizen.wire(concurrency)
        enterprise.wire(demo, concurrency)
        staff_tab.wire(demo)

    demo.queue(default_concurrency_limit=concurrency, max_size=concurrency * QUEUE_PER_WORKER)
    demo.kb_web = web
    demo.kb_staff = staff
    demo.kb_insight = staff_tab.insight
    demo.kb_tabs = SimpleNamespace(citizen=citizen, enterprise=enterprise, staff=staff_tab)
    demo.kb_handlers = {
        "api_ask": citizen.api_ask, "add_question": citizen.add_question, "respond": citizen.respond,
        "pick_example": citizen.pick_example, "on_feedback": citizen.on_feedback, "clear_chat": citizen.clear_chat,
        "show_topic": enterprise.show_topic, "open_entry": enterprise.open_entry,
        "staff_enter": staff_tab.enter, "staff_logout": staff_tab.logout, "staff_reload": staff_tab.reload,
        "staff_upload": staff_tab.upload, "staff_delete": staff_tab.delete, "staff_repeal": staff_tab.repeal,
        "staff_refresh": staff_tab.refresh,
    }
    return demo


def _no_proxy_for_loopback() -> None:
    """launch() checks the local URL over HTTP; make sure a proxy setting does not intercept it."""
    for name in ("NO_PROXY", "no_proxy"):
        hosts = [h.strip() for h in os.environ.get(name, "").split(",") if h.strip()]
        hosts += [host for host in ("127.0.0.1", "localhost") if host not in hosts]
        os.environ[name] = ",".join(hosts)


def _stop_on_terminate() -> None:
    """Stop on SIGTERM as on Ctrl+C. A service manager (systemd, docker stop) ends the app with SIGTERM, whose default
    action exits at once: the question log's queued lines were lost and temporary folders stayed behind."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
        signal.signal(signal.SIGTERM, interrupt)


def serve(kb: KnowledgeBase, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    """Run the web app until interrupted; prints the local URL."""
    _no_proxy_for_loopback()
    _stop_on_terminate()  # from the start: stopped while warming up, it ends as interrupted (exit 130), not killed
    started = time.perf_counter()
    web = web_kb(kb)
    web.warm_up()  # load the index and the model once, before the first visitor
    demo = build_app(web)
    try:
        _, local_url, share_url = demo.launch(server_name=host, server_port=port, share=share,
                                              prevent_thread_lock=True, quiet=True, **launch_options(web))
    except OSError as error:  # Gradio's own message names its environment variable, not our flag
        web.question_log.close()
        raise KbBotError(f"cannot serve on {host}:{port}: {error.strerror or 'the port is taken or not allowed'}",
                         hint=f"choose another port with --port, or stop the program using port {port}") from None
    print(f"kb-bot: {APP_TITLE} is running at {local_url} (ready in {time.perf_counter() - started:.1f} s; "
          "Ctrl+C to stop)", flush=True)
    if share_url:
        print(f"kb-bot: public share link {share_url}", flush=True)
    if not web.settings.admin_user or not web.settings.admin_password:
        print("kb-bot: staff tab disabled (set KB_BOT_ADMIN_USER and KB_BOT_ADMIN_PASSWORD to enable it)",
              flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
        web.question_log.close()  # its writer is a daemon thread: lines still queued would be lost on exit
