"""The soak's virtual users: the personas and their weights, the requests each sends, the tally of answers."""

import http.client
import http.cookies
import json
import random
import re
import threading
import time
from collections import Counter, defaultdict
from urllib.parse import urlencode

from soak_setup import PASSWORD

STAFF = (
    ("admin", "onegrid-admin"),
    ("street", "onegrid-street"),
    ("community", "onegrid-community"),
    ("grid", "onegrid-grid"),
    ("grid2", "onegrid-grid"),
)
# Each virtual user is one of these, and picks its next request by weight. Anonymous 1/8, members 3/8,
# residents 1/4, staff the rest (4, 12, 8, 8 of 32 connections).
PERSONAS = {
    "anonymous": {"board_anonymous": 6, "wish_page": 4},
    "member": {
        "board_logged_in": 3,
        "wish_page": 3,
        "api_wishes": 3,
        "claim_release": 3,
        "api_events": 1,
        "report_api": 1,
        "login": 0.1,
        "api_token": 0.1,
    },
    "resident": {
        "board_logged_in": 3,
        "wish_page": 2,
        "api_events": 2,
        "my_reports": 1,
        "report_api": 1,
        "report_site": 1,
        "login": 0.1,
        "api_token": 0.1,
    },
    "staff": {
        "admin_wishes": 2,
        "admin_events": 2,
        "admin_residents": 2,
        "api_wishes": 1,
        "api_events": 1,
        "login": 0.1,
    },
}
OK = {200: None}
PROBLEMS = (
    "楼道堆放杂物",
    "路灯不亮",
    "井盖松动",
    "垃圾未及时清运",
    "小区门口占道经营",
    "绿化带破损",
    "电动车楼道充电",
)
PLACES = ("号楼一单元门口", "号楼楼道", "号楼北侧路边", "号楼西侧绿地")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- counting ----------------------------------------------------------------------------------------
class Tally:
    """What the virtual users saw: latencies per kind (measured window only), answers, errors with samples."""

    def __init__(self, measure_from: float, measure_to: float):
        self.measure_from, self.measure_to = measure_from, measure_to
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.answers: dict[str, Counter] = defaultdict(Counter)
        self.errors: Counter = Counter()
        self.server_errors: Counter = Counter()
        self.samples: list[str] = []

    def record(
        self, kind: str, request: str, status, expected: dict, started: float, ended: float, body: bytes
    ):
        ok = status in expected
        with self.lock:
            self.answers[kind][expected.get(status) or str(status)] += 1
            if self.measure_from <= started < self.measure_to:
                self.latencies[kind].append((ended - started) * 1000)
            if not ok:
                self.errors[kind] += 1
                if isinstance(status, int) and status >= 500:
                    self.server_errors[kind] += 1
                if len(self.samples) < 30:
                    when = time.strftime("%H:%M:%S")
                    text = body[:300].decode("utf-8", "replace").replace("\n", " ")
                    self.samples.append(f"{when} {kind}: {request} → {status} {text}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


# --- the virtual users ----------------------------------------------------------------------------
class VirtualUser:
    """One connection, one person: logs in as they would, then sends request after request, chosen by weight."""

    def __init__(self, soak, persona: str, account: tuple[str, str] | None, seed: int):
        self.soak, self.persona, self.account = soak, persona, account
        self.rng = random.Random(seed)
        self.kinds, self.weights = zip(*PERSONAS[persona].items())
        self.connection = http.client.HTTPConnection("127.0.0.1", soak.port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token: str | None = None

    def run(self) -> None:
        try:
            if self.account is not None:
                self.login()
                self.api_token()
            while time.monotonic() < self.soak.deadline:
                getattr(self, self.rng.choices(self.kinds, self.weights)[0])()
        except Exception as error:  # a bug of the bench itself: say so, never hide it in the numbers
            self.soak.tally.record("bench", "client", type(error).__name__, {}, 0, 0, repr(error).encode())
        finally:
            self.connection.close()

    # -- one request ---------------------------------------------------------------------------------
    def call(
        self,
        kind: str,
        method: str,
        path: str,
        expected: dict,
        *,
        form: dict | None = None,
        json_body=None,
        api: bool = False,
        label=None,
    ) -> tuple[object, str]:
        """Send one request on this user's connection and record it; returns (status, body)."""
        headers, body = {"X-Soak-Kind": kind}, None  # gunicorn's access log names the kind with its time
        if form is not None:
            body, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
        elif json_body is not None:
            body, headers["Content-Type"] = json.dumps(json_body), "application/json"
        if api and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if not api and self.cookies:  # a browser's cookies; API clients have none
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.monotonic()
        try:
            self.connection.request(method, path, body=body.encode() if body else None, headers=headers)
            response = self.connection.getresponse()
            data, status = response.read(), response.status
            if not api:
                self.keep_cookies(response.msg.get_all("Set-Cookie") or [])
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()  # the next request opens a new one
            data, status = str(error).encode(), type(error).__name__
        ended = time.monotonic()
        text = data.decode("utf-8", "replace")
        if label is not None:
            status = label(status, text)
        self.soak.tally.record(kind, f"{method} {path}", status, expected, started, ended, data)
        return status, text

    def keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            cookie = http.cookies.SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)  # Flask deletes a cookie by emptying it
                else:
                    self.cookies[name] = morsel.value

    def form_token(self, kind: str, path: str) -> str | None:
        """GET a form page and take its CSRF token, as a browser shows the form before it is sent."""
        status, page = self.call(kind, "GET", path, {200: None})
        match = CSRF.search(page) if status == 200 else None
        if status == 200 and match is None:
            self.soak.tally.record(kind, f"GET {path}", "no CSRF token", {}, 0, 0, page.encode())
        return match.group(1) if match else None

    # -- logging in ------------------------------------------------------------------------------------
    def login(self) -> None:
        """A fresh browser session: the login page, then the form (303 to the landing page)."""
        self.cookies.clear()
        token = self.form_token("login page", "/login")
        if token is not None:
            username, password = self.account
            self.call(
                "login",
                "POST",
                "/login",
                {303: None},
                form={"csrf_token": token, "username": username, "password": password},
            )

    def api_token(self) -> None:
        username, password = self.account
        status, body = self.call(
            "API token",
            "POST",
            "/api/v1/auth/token",
            OK,
            api=True,
            json_body={"username": username, "password": password},
        )
        if status == 200:
            self.token = json.loads(body)["token"]

    # -- the public site -------------------------------------------------------------------------------
    def board_anonymous(self) -> None:
        page = self.rng.choice((1, 1, 1, 1, 2, 3))
        self.call("board (anonymous)", "GET", "/" if page == 1 else f"/?page={page}", OK)

    def board_logged_in(self) -> None:
        self.call("board (logged in)", "GET", "/", OK)

    def wish_page(self) -> None:
        self.call("wish page", "GET", f"/wishes/{self.rng.choice(self.soak.data['wishes'])}", OK)

    def my_reports(self) -> None:
        self.call("my reports", "GET", "/my/events", OK)

    def report_site(self) -> None:
        token = self.form_token("report form", "/events/new")
        if token is not None:
            self.call(
                "report (site)",
                "POST",
                "/events/new",
                {303: None},
                form={"csrf_token": token, **self.problem()},
            )

    def problem(self) -> dict:
        what = self.rng.choice(PROBLEMS)
        return {
            "matter": self.rng.choice(self.soak.data["matters"]),
            "title": f"{what}（压测）",
            "description": f"{what}，已经好几天了，请尽快处理。",
            "location_text": f"{self.rng.randint(1, 30)}{self.rng.choice(PLACES)}",
        }

    # -- the API ---------------------------------------------------------------------------------------
    def api_wishes(self) -> None:
        self.call(
            "API wishes",
            "GET",
            f"/api/v1/wishes?status=published&per_page=20&page={self.rng.randint(1, 3)}",
            OK,
            api=True,
        )

    def api_events(self) -> None:
        self.call("API events", "GET", "/api/v1/events?per_page=20", OK, api=True)

    def report_api(self) -> None:
        self.call("report (API)", "POST", "/api/v1/events", {201: None}, api=True, json_body=self.problem())

    def claim_release(self) -> None:
        """Claim a published wish and give it back; 409 when another member holds it is a lost race, not an error."""
        wish_id = self.rng.choice(self.soak.data["wishes"])
        status, _ = self.call(
            "claim",
            "POST",
            f"/api/v1/wishes/{wish_id}/claim",
            {200: "won", 409: "lost"},
            api=True,
            label=claim_label,
        )
        if status == 200:  # a release says why (required since residents are told)
            reason = {"reason": "时间冲突，无法按时前往"}
            self.call("release", "POST", f"/api/v1/wishes/{wish_id}/release", OK, api=True, json_body=reason)

    # -- the back office -------------------------------------------------------------------------------
    def admin_wishes(self) -> None:
        self.call("admin wishes", "GET", "/admin/wish/", OK)

    def admin_events(self) -> None:
        self.call("admin events", "GET", "/admin/event/", OK)

    def admin_residents(self) -> None:
        self.call("admin residents", "GET", "/admin/resident/", OK)


def claim_label(status, body: str):
    """A 409 from the member's own claim limit means a release went missing: an error, not a lost race."""
    if status == 409 and '"claim_limit"' in body:
        return "409 claim_limit"
    return status


def cast(connections: int) -> list[tuple[str, tuple[str, str] | None]]:
    """(persona, account) of each connection: anonymous 1/8, members 3/8, residents 1/4, staff the rest."""
    anonymous, members = max(1, connections // 8), connections * 3 // 8
    residents = connections // 4
    staff = connections - anonymous - members - residents
    return (
        [("anonymous", None)] * anonymous
        + [("member", (f"soak-member-{i:02d}", PASSWORD)) for i in range(members)]
        + [("resident", (f"soak-resident-{i:02d}", PASSWORD)) for i in range(residents)]
        + [("staff", STAFF[i % len(STAFF)]) for i in range(staff)]
    )
