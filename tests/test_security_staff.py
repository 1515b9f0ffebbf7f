"""Issue 14, findings 1 and 2: staff sessions of their own, login throttling, citizens first under hostile load.

A live app on loopback (fake embedder): the login is answered by the middleware without a queue worker,
100 parallel bad logins leave 5 concurrent citizen questions untouched, a session hash replayed from a new
client (no cookie) is refused, /monitoring is not public, every response carries the CSP header, and every
staff action lands in the audit log.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import pytest

from kb_bot.web import security
from kb_bot.web.app import build_app, launch_options
from kb_bot.web.security import COOKIE, LoginThrottle, RateLimiter, StaffGate, StaffSessions
from kb_bot.web.staff import AUDIT_LOG_NAME, NOT_LOGGED_IN

from web_fixtures import PARKING_DOC, STAFF_PASSWORD, STAFF_USER, fake_kb, free_port


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_sessions_expire_when_idle_and_absolutely():
    clock = Clock()
    sessions = StaffSessions(idle=60, absolute=300, clock=clock)
    session = sessions.create("staff", "1.2.3.4")
    assert len(session.token) >= 40 and sessions.check(session.token) is session
    assert sessions.check("guess") is None and sessions.check(None) is None
    for _ in range(4):  # active use keeps it alive ...
        clock.now += 59
        assert sessions.check(session.token) is session
    clock.now += 70  # ... but never past the absolute limit (59 * 4 + 70 > 300)
    assert sessions.check(session.token) is None
    idle = sessions.create("staff", "1.2.3.4")
    clock.now += 61
    assert sessions.check(idle.token) is None
    ended = sessions.create("staff", "1.2.3.4")
    sessions.end(ended.token)
    assert sessions.check(ended.token) is None


def test_failed_logins_lock_out_growing_without_sleeping(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail("a login must never sleep"))
    clock = Clock()
    gate = StaffGate(STAFF_USER, STAFF_PASSWORD, tmp_path / "audit.jsonl", throttle=LoginThrottle(clock=clock))
    statuses = [gate.login(STAFF_USER, "wrong", "10.0.0.1")[0] for _ in range(security.FREE_ATTEMPTS)]
    assert statuses == [401] * security.FREE_ATTEMPTS
    status, message, session = gate.login(STAFF_USER, STAFF_PASSWORD, "10.0.0.1")
    assert status == 429 and session is None and "秒后再试" in message  # even the right password waits
    assert gate.login(STAFF_USER, STAFF_PASSWORD, "10.0.0.2")[0] == 200  # per client
    waits = []
    for _ in range(3):
        clock.now += gate.throttle.locked_for("10.0.0.1") + 0.01
        assert gate.login(STAFF_USER, "wrong", "10.0.0.1")[0] == 401
        waits.append(gate.throttle.locked_for("10.0.0.1"))
    assert waits[0] < waits[1] < waits[2] <= security.LOCKOUT_MAX_SECONDS
    clock.now += waits[-1] + 0.01
    assert gate.login(STAFF_USER, STAFF_PASSWORD, "10.0.0.1")[0] == 200
    assert gate.throttle.locked_for("10.0.0.1") == 0


def test_rate_limiter_bucket():
    clock = Clock()
    limiter = RateLimiter(60, burst=3, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    clock.now += 1.0  # one more a second
    assert limiter.allow("a") and not limiter.allow("a")


def test_a_logged_in_staff_member_is_never_held_by_the_citizens_rate_limit(tmp_path):
    # QA, thirteenth session: behind one office address, a refresh after a busy chat failed with a bare "Error".
    import asyncio

    from kb_bot.web.security import SecurityMiddleware

    gate = StaffGate(STAFF_USER, STAFF_PASSWORD, tmp_path / "audit.jsonl")
    _, _, session = gate.login(STAFF_USER, STAFF_PASSWORD, "10.0.0.1")
    statuses = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def call(middleware, cookie=None):
        headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
        scope = {"type": "http", "path": "/gradio_api/call/staff_refresh", "method": "POST", "headers": headers,
                 "client": ("10.0.0.1", 1)}

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
        await middleware(scope, receive, send)

    middleware = SecurityMiddleware(app, gate, RateLimiter(60, burst=1, clock=Clock()))
    asyncio.run(call(middleware))
    asyncio.run(call(middleware))  # the address's one request is spent: a citizen waits
    seen = session.last_seen
    asyncio.run(call(middleware, session.token))
    asyncio.run(call(middleware, "forged"))
    assert statuses == [200, 429, 200, 429]
    assert session.last_seen == seen  # a chat question from a staff browser does not keep the session alive


def test_handlers_take_the_session_from_the_cookie_only(tmp_path):
    kb = fake_kb(tmp_path, admin_user=STAFF_USER, admin_password=STAFF_PASSWORD)
    demo = build_app(kb)
    tab, gate = demo.kb_tabs.staff, demo.kb_staff.gate
    _, _, session = gate.login(STAFF_USER, STAFF_PASSWORD, "127.0.0.1")

    def request(cookies):
        return SimpleNamespace(cookies=cookies, client=SimpleNamespace(host="127.0.0.1"), headers={})

    for forged in ({}, {COOKIE: "forged"}, {COOKIE: session.token[:-1]}, {"session": session.token}):
        assert NOT_LOGGED_IN in tab.reload(request(forged)).reload_msg
        assert NOT_LOGGED_IN in tab.delete("education.md", True, request(forged)).delete_msg
        assert NOT_LOGGED_IN in tab.refresh(request(forged)).refresh_msg
    assert (kb.settings.documents / "education.md").exists()
    view = tab.enter(request({COOKIE: session.token}))
    assert view.staff_box["visible"] is True and STAFF_USER in view.who and len(view.docs_table) == 3

    upload = tmp_path / "停车补贴.md"
    upload.write_text(PARKING_DOC, encoding="utf-8")
    assert "已上传" in tab.upload(str(upload), False, request({COOKIE: session.token})).upload_msg
    assert "已删除" in tab.delete("停车补贴.md", True, request({COOKIE: session.token})).delete_msg
    assert "未完成" in tab.delete("../x.md", True, request({COOKIE: session.token})).delete_msg
    assert "索引" in tab.refresh(request({COOKIE: session.token})).refresh_msg
    audit = [json.loads(line) for line in (kb.settings.index / AUDIT_LOG_NAME).read_text("utf-8").splitlines()]
    assert [(a["action"], a["document"], a["outcome"].split(":")[0]) for a in audit] == [
        ("login", None, "ok"), ("upload", "停车补贴.md", "ok"), ("delete", "停车补贴.md", "ok"),
        ("delete", "../x.md", "refused"), ("refresh", None, "ok")]
    assert all(a["user"] == STAFF_USER and a["client"] == "127.0.0.1" and a["time"] for a in audit)


@pytest.fixture
def live(tmp_path):
    kb = fake_kb(tmp_path, admin_user=STAFF_USER, admin_password=STAFF_PASSWORD, concurrency=2)
    demo = build_app(kb)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                            **launch_options(kb))
    try:
        yield SimpleNamespace(url=url, kb=kb, demo=demo)
    finally:
        demo.close()


def _fn_index(url: str, name: str) -> int:
    dependencies = httpx.get(url + "config").json()["dependencies"]
    return next(i for i, d in enumerate(dependencies) if d.get("api_name") == name)


def _run(url: str, fn_index: int, session_hash: str, cookies=None) -> list:
    response = httpx.post(url + "gradio_api/run/predict", cookies=cookies, timeout=30,
                          json={"data": [], "fn_index": fn_index, "session_hash": session_hash})
    response.raise_for_status()
    return response.json()["data"]


def test_security_headers_and_no_public_monitoring(live):
    for path in ("", "config", "gradio_api/info", "theme.css"):
        response = httpx.get(live.url + path)
        assert "default-src 'self'" in response.headers["content-security-policy"], path
        assert response.headers["x-content-type-options"] == "nosniff"
    for path in ("monitoring", "monitoring/summary", "gradio_api/monitoring/summary"):
        assert httpx.get(live.url + path).status_code == 404, path


def test_session_replay_from_a_new_client_is_refused(live):
    url = live.url
    reload_fn = _fn_index(url, "staff_reload")
    login = httpx.post(url + "kb-staff/login", json={"user": STAFF_USER, "password": STAFF_PASSWORD})
    assert login.status_code == 200 and login.json()["ok"]
    set_cookie = login.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    cookies = {COOKIE: login.cookies[COOKIE]}
    session_hash = "victim-session-hash"
    assert len(_run(url, reload_fn, session_hash, cookies)[0]["data"]) == 3  # the staff member's own browser
    # Someone who saw the session hash (it travels in URLs) replays it from another client: refused.
    assert NOT_LOGGED_IN in _run(url, reload_fn, session_hash)[-1]
    # A cross-site login attempt (another Origin) is refused, and so is a form post.
    assert httpx.post(url + "kb-staff/login", json={"user": STAFF_USER, "password": STAFF_PASSWORD},
                      headers={"Origin": "http://evil.example"}).status_code == 403
    assert httpx.post(url + "kb-staff/login", data={"user": STAFF_USER, "password": STAFF_PASSWORD}).status_code == 415
    # After logout the cookie is dead.
    assert httpx.post(url + "kb-staff/logout", cookies=cookies).status_code == 200
    assert NOT_LOGGED_IN in _run(url, reload_fn, session_hash, cookies)[-1]
    actions = [json.loads(line)["action"] for line in
               (live.kb.settings.index / AUDIT_LOG_NAME).read_text("utf-8").splitlines()]
    assert actions == ["login", "logout"]


def _ask(url: str, question: str) -> dict:
    """One citizen question over the queue API (/gradio_api/call/ask): the final data, or an error."""
    with httpx.Client(timeout=60) as client:
        join = client.post(url + "gradio_api/call/ask", json={"data": [question, []]})  # question, history
        if join.status_code != 200:
            return {"error": join.status_code}
        event = join.json()["event_id"]
        with client.stream("GET", f"{url}gradio_api/call/ask/{event}") as stream:
            kind = None
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    return {"error": line} if kind == "error" else {"data": json.loads(line[5:])}
    return {"error": "no result"}


def test_100_parallel_bad_logins_do_not_hurt_5_citizens(live):
    url = live.url
    with ThreadPoolExecutor(max_workers=105) as pool:
        logins = [pool.submit(httpx.post, url + "kb-staff/login", json={"user": "admin", "password": f"guess{i}"},
                              timeout=60) for i in range(100)]
        citizens = [pool.submit(_ask, url, "招聘会帮企业招到了多少人？") for _ in range(5)]
        login_statuses = [f.result().status_code for f in logins]
        answers = [f.result() for f in citizens]
    assert [a.get("error") for a in answers] == [None] * 5
    assert all(a["data"][0]["question"] for a in answers)
    # A few guesses are checked; then the lockout (2 s, doubling) answers the rest at once with 429.
    assert set(login_statuses) <= {401, 429} and login_statuses.count(401) <= security.FREE_ATTEMPTS + 5
    # The old way in (a Gradio event with the password in its data) no longer exists.
    assert httpx.post(url + "gradio_api/call/staff_login", json={"data": ["admin", "x", None]}).status_code != 200


def test_unexpected_errors_do_not_leak_internals(live, monkeypatch):
    def broken(question):
        raise RuntimeError("internal detail /srv/kb-bot/secret.py line 42")

    monkeypatch.setattr(live.kb, "ask", broken)
    result = _ask(live.url, "你好")
    assert "error" in result and "secret.py" not in result["error"] and "RuntimeError" not in result["error"]


def test_a_flood_of_anonymous_staff_events_leaves_citizen_slots_alone(tmp_path):
    """Without the per-client limit (0), 100 parallel anonymous staff calls still never take a citizen's slot."""
    kb = fake_kb(tmp_path, admin_user=STAFF_USER, admin_password=STAFF_PASSWORD, concurrency=1,
                 rate_limit_per_minute=0)
    demo = build_app(kb)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                            **launch_options(kb))
    try:
        reload_fn, refresh_fn = _fn_index(url, "staff_reload"), _fn_index(url, "staff_refresh")

        def anonymous(i):
            try:
                return _run(url, reload_fn if i % 2 else refresh_fn, f"attacker-{i}")[-1]
            except httpx.HTTPError as exc:  # a refresh call over the plain HTTP route may be refused: fine
                return type(exc).__name__

        with ThreadPoolExecutor(max_workers=105) as pool:
            attacks = [pool.submit(anonymous, i) for i in range(100)]
            citizens = [pool.submit(_ask, url, "招聘会帮企业招到了多少人？") for _ in range(5)]
            answers = [f.result() for f in citizens]
            refused = [f.result() for f in attacks]
    finally:
        demo.close()
    assert [a.get("error") for a in answers] == [None] * 5
    assert sum(NOT_LOGGED_IN in str(r) for r in refused) >= 50  # every staff_reload was refused
