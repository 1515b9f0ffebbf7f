"""What stands between the public and the web app: headers, staff sessions, login throttling, rate limits, audit.

* ``SecurityMiddleware`` (pure ASGI, installed through ``launch(app_kwargs=...)``) puts a
  Content-Security-Policy on every response so the page can load or send nothing outside its own
  origin, hides Gradio's ``/monitoring`` pages, answers the staff login and logout itself, and
  limits each client's anonymous traffic (a token bucket per address, answered with 429).
* Staff sessions are server-issued random secrets in an ``HttpOnly; SameSite=Strict`` cookie with
  idle and absolute expiry; a Gradio session hash (which travels in URLs) is never a credential.
* Failed logins are throttled per client with a growing lockout, answered at once (nothing sleeps,
  no worker is held); successful and failed logins and every staff action go to an audit log.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Callable

from starlette.requests import Request

log = logging.getLogger(__name__)

#: Only the page's own origin: no outside image, script, font, frame or connection, whatever a document says.
#: Gradio needs inline scripts (its config) and eval (``js=`` event functions are compiled with new Function):
#: without 'unsafe-eval' the page does not start (tests/test_security_browser.py shows it).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' data: blob:; "
    "worker-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
]

COOKIE = "kb_staff"
LOGIN_PATH = "/kb-staff/login"
LOGOUT_PATH = "/kb-staff/logout"
IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 8 * 3600
MAX_SESSIONS = 64
#: Failed logins a client may make before the lockout starts; each further one doubles it (up to the cap).
FREE_ATTEMPTS = 5
LOCKOUT_BASE_SECONDS = 2.0
LOCKOUT_MAX_SECONDS = 15 * 60
MAX_BODY = 4096

LOGIN_OK = "登录成功。"
LOGIN_BAD = "**登录失败**：用户名或密码错误。"
LOGIN_LOCKED = "**登录失败次数过多**：请在 {seconds} 秒后再试。"
TOO_MANY = "请求过于频繁，请稍后再试。"


def _now() -> float:
    return time.time()


# --------------------------------------------------------------------------- sessions


@dataclass
class StaffSession:
    """One logged-in staff member: the secret is the cookie value, never shown in a URL."""

    token: str
    user: str
    client: str
    created: float
    last_seen: float


class StaffSessions:
    """Server-side staff sessions with idle and absolute expiry."""

    def __init__(self, idle: float = IDLE_SECONDS, absolute: float = ABSOLUTE_SECONDS, clock: Callable[[], float] = _now):
        self.idle, self.absolute, self.clock = idle, absolute, clock
        self._sessions: dict[str, StaffSession] = {}
        self._lock = threading.Lock()

    def create(self, user: str, client: str) -> StaffSession:
        """A new session for a user who just logged in (the least recently used goes when there are too many)."""
        now = self.clock()
        session = StaffSession(secrets.token_urlsafe(32), user, client, now, now)
        with self._lock:
            self._expire(now)
            if len(self._sessions) >= MAX_SESSIONS:  # drop the least recently used
                oldest = min(self._sessions.values(), key=lambda s: s.last_seen)
                self._sessions.pop(oldest.token, None)
            self._sessions[session.token] = session
        return session

    def check(self, token: str | None, touch: bool = True) -> StaffSession | None:
        """The live session of a cookie value (its idle clock restarted unless ``touch`` is False), or None."""
        if not token or not isinstance(token, str):
            return None
        now = self.clock()
        with self._lock:
            self._expire(now)
            session = self._sessions.get(token)
            if session is None or not hmac.compare_digest(session.token, token):
                return None
            if touch:
                session.last_seen = now
            return session

    def end(self, token: str | None) -> StaffSession | None:
        """End a session (logout); returns it, or None when there was none."""
        with self._lock:
            return self._sessions.pop(token, None) if token else None

    def _expire(self, now: float) -> None:
        for token, s in list(self._sessions.items()):
            if now - s.last_seen >= self.idle or now - s.created >= self.absolute:
                del self._sessions[token]


# --------------------------------------------------------------------------- throttles


class LoginThrottle:
    """Failed logins per client: a few free attempts, then a lockout that doubles with each failure."""

    def __init__(self, clock: Callable[[], float] = _now):
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (failures, locked until)
        self._lock = threading.Lock()

    def locked_for(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        with self._lock:
            _, until = self._failures.get(client, (0, 0.0))
        return max(0.0, until - self.clock())

    def failed(self, client: str) -> None:
        """Count a failed login; from FREE_ATTEMPTS on, lock the client out for longer each time."""
        with self._lock:
            count, _ = self._failures.get(client, (0, 0.0))
            count += 1
            until = 0.0
            if count >= FREE_ATTEMPTS:
                until = self.clock() + min(LOCKOUT_BASE_SECONDS * 2 ** (count - FREE_ATTEMPTS), LOCKOUT_MAX_SECONDS)
            if len(self._failures) > 10_000:  # bounded memory under a spray from many addresses
                self._failures.clear()
            self._failures[client] = (count, until)

    def succeeded(self, client: str) -> None:
        """Forget a client's failed logins."""
        with self._lock:
            self._failures.pop(client, None)


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests a minute on average, bursts of ``burst``."""

    def __init__(self, per_minute: float, burst: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(10, int(per_minute // 2)))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """True when the client may make one more request now (takes a token from its bucket)."""
        if self.rate <= 0:
            return True
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if len(self._buckets) > 10_000:
                self._buckets.clear()
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return False
            self._buckets[client] = (tokens - 1, now)
            return True


# --------------------------------------------------------------------------- audit


class AuditLog:
    """Staff actions as JSON lines: time, user, client, action, document, outcome."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def write(self, action: str, user: str | None, client: str | None, document: str | None = None,
              outcome: str = "ok") -> None:
        """Append one audit line: time, user, client, action, document, outcome."""
        record = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "user": user,
                  "client": client, "action": action, "document": document, "outcome": outcome}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(line)
        except OSError as exc:  # the action itself succeeded; say loudly that its record did not
            log.error("cannot write the staff audit log %s: %s (%s)", self.path, exc, line.strip())


# --------------------------------------------------------------------------- the gate


class StaffGate:
    """Staff credentials, sessions, the login throttle and the audit log of one app."""

    def __init__(self, user: str | None, password: str | None, audit_path: Path,
                 sessions: StaffSessions | None = None, throttle: LoginThrottle | None = None):
        self.user, self.password = user or "", password or ""
        self.sessions = sessions or StaffSessions()
        self.throttle = throttle or LoginThrottle()
        self.audit = AuditLog(audit_path)

    @property
    def configured(self) -> bool:
        """True when a staff user and password are set."""
        return bool(self.user) and bool(self.password)

    def login(self, user: Any, password: Any, client: str) -> tuple[int, str, StaffSession | None]:
        """(HTTP status, message, new session or None). Answers at once: a locked-out client is not even checked."""
        if not self.configured:
            return 403, "管理功能未启用。", None
        wait = self.throttle.locked_for(client)
        if wait > 0:  # not written to the audit log: a flood must not fill the disk (the failures before it are)
            log.info("staff login from %s refused: locked out for %.0f s", client, wait)
            return 429, LOGIN_LOCKED.format(seconds=int(wait) + 1), None
        user_ok = hmac.compare_digest(str(user or "").strip().encode("utf-8"), self.user.encode("utf-8"))
        password_ok = hmac.compare_digest(str(password or "").encode("utf-8"), self.password.encode("utf-8"))
        if not (user_ok and password_ok):
            self.throttle.failed(client)
            self.audit.write("login", str(user)[:40] if user else None, client, outcome="failed")
            log.warning("failed staff login from %s", client)
            return 401, LOGIN_BAD, None
        self.throttle.succeeded(client)
        session = self.sessions.create(self.user, client)
        self.audit.write("login", self.user, client)
        return 200, LOGIN_OK, session

    def logout(self, token: str | None, client: str) -> None:
        """End the session of ``token`` and audit it."""
        session = self.sessions.end(token)
        if session is not None:
            self.audit.write("logout", session.user, client)

    def session_of(self, request: Any, touch: bool = True) -> StaffSession | None:
        """The staff session of a request (gr.Request or Starlette) by its cookie, or None (``touch``: restart its
        idle clock, as a staff action does)."""
        if not self.configured or request is None:
            return None
        cookies = getattr(request, "cookies", None) or {}
        return self.sessions.check(cookies.get(COOKIE), touch=touch)


# --------------------------------------------------------------------------- ASGI middleware


def _is_anonymous_work(method: str, path: str) -> bool:
    """Requests that make the server compute something: queue joins and direct calls."""
    return method == "POST" and ("/queue/join" in path or "/call/" in path or "/run/" in path or
                                 path.endswith("/upload"))


class SecurityMiddleware:
    """Security headers on every response, the staff login/logout endpoints, rate limits, no /monitoring."""

    def __init__(self, app, gate: StaffGate, limiter: RateLimiter | None = None):
        self.app, self.gate, self.limiter = app, gate, limiter

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        client = (scope.get("client") or ("?", 0))[0]
        if path.rstrip("/").endswith("/monitoring") or "/monitoring/" in path:
            return await _respond(send, 404, {"detail": "Not Found"})
        if path in (LOGIN_PATH, LOGOUT_PATH):
            return await self._staff(scope, receive, send, path, method, client)
        # A logged-in staff member's work (a refresh, an upload) never waits on the citizens' rate limit: behind one
        # office address it failed with a bare "Error" once the chat had been busy (QA, thirteenth session).
        if (self.limiter is not None and _is_anonymous_work(method, path) and not self._staff_request(scope)
                and not self.limiter.allow(client)):
            return await _respond(send, 429, {"detail": TOO_MANY}, [(b"retry-after", b"5")])

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in SECURITY_HEADERS if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _staff_request(self, scope) -> bool:
        """Does the request carry a live staff session cookie? A question asked from a staff member's browser is no
        staff activity: the session's idle clock runs on."""
        return self.gate.session_of(Request(scope), touch=False) is not None

    async def _staff(self, scope, receive, send, path, method, client):
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if method != "POST":
            return await _respond(send, 405, {"ok": False, "message": "POST only"})
        origin = headers.get("origin")
        hosts = {headers.get("host", ""), headers.get("x-forwarded-host", "").split(",")[0].strip()} - {""}
        if origin and origin.split("://", 1)[-1] not in hosts:  # a cross-site form or script (or a proxy's Host)
            return await _respond(send, 403, {"ok": False, "message": "cross-origin request refused"})
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                return await _respond(send, 413, {"ok": False, "message": "too large"})
            if not message.get("more_body"):
                break
        token = SimpleCookie(headers.get("cookie", "")).get(COOKIE)
        token = token.value if token is not None else None
        if path == LOGOUT_PATH:
            self.gate.logout(token, client)
            return await _respond(send, 200, {"ok": True, "message": "已退出登录。"}, [_cookie_header("", 0)])
        if "application/json" not in headers.get("content-type", ""):
            return await _respond(send, 415, {"ok": False, "message": "JSON only"})
        try:
            data = json.loads(body.decode("utf-8"))
            user, password = data.get("user"), data.get("password")
        except (ValueError, UnicodeDecodeError, AttributeError):
            return await _respond(send, 400, {"ok": False, "message": "bad request"})
        status, message, session = self.gate.login(user, password, client)
        secure = scope.get("scheme") == "https" or headers.get("x-forwarded-proto") == "https"
        extra = [_cookie_header(session.token, int(self.gate.sessions.absolute), secure)] if session else []
        return await _respond(send, status, {"ok": session is not None, "message": message}, extra)


def _cookie_header(value: str, max_age: int, secure: bool = False) -> tuple[bytes, bytes]:
    flags = "; Secure" if secure else ""  # behind an HTTPS proxy; plain http on loopback would drop it
    return (b"set-cookie",
            f"{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{flags}".encode("latin-1"))


async def _respond(send, status: int, payload: dict, extra: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store"), *SECURITY_HEADERS, *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def security_middleware(gate: StaffGate, per_minute: float):
    """The Starlette ``Middleware`` entry for ``launch(app_kwargs={"middleware": [...]})``."""
    from starlette.middleware import Middleware

    return Middleware(SecurityMiddleware, gate=gate, limiter=RateLimiter(per_minute) if per_minute > 0 else None)


#: The staff tab's login button: posts the credentials to the middleware, which sets the HttpOnly cookie.
#: Returns (message, cleared password) for the login message and password box.
LOGIN_JS = """async (user, password) => {
  let message = "**登录失败**：无法连接服务器。";
  try {
    const response = await fetch(new URL("kb-staff/login", window.location.href), {
      method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({user: user || "", password: password || ""})});
    const data = await response.json();
    message = data.ok ? "" : (data.message || message);
  } catch (e) {}
  return [message, ""];
}"""

LOGOUT_JS = """async () => {
  try {
    await fetch(new URL("kb-staff/logout", window.location.href), {method: "POST", credentials: "same-origin"});
  } catch (e) {}
  return [];
}"""
