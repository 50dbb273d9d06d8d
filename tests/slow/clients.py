"""HTTP clients of a live server: the JSON API with a token, and a browser-like web client
(session cookie, CSRF token and hidden fields read from the page, as a browser posts them)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html.parser import HTMLParser

import requests

from app.accounts import second_factor

TIMEOUT = 60


class Api:
    def __init__(self, base_url: str, token: str):
        self.base = base_url + "/api/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.http.headers["Accept-Language"] = "en"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, body=None, headers: dict | None = None, **kwargs):
        return self.http.post(
            self.base + path, json=body, headers=headers or {}, timeout=TIMEOUT, **kwargs
        )

    def put(self, path: str, body=None, headers: dict | None = None, **kwargs):
        return self.http.put(
            self.base + path, json=body, headers=headers or {}, timeout=TIMEOUT, **kwargs
        )

    def patch(self, path: str, body=None, headers: dict | None = None, **kwargs):
        return self.http.patch(
            self.base + path, json=body, headers=headers or {}, timeout=TIMEOUT, **kwargs
        )

    def version(self, request_id: int) -> int:
        response = self.get(f"/requests/{request_id}")
        response.raise_for_status()
        return int(response.headers["ETag"].strip('W/"'))

    def fire(self, request_id: int, trigger: str, data=None, *, if_match=None, key=None, reason=""):
        headers = {}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        if key is not None:
            headers["Idempotency-Key"] = key
        body = {"reason": reason, "data": data or {}}
        return self.post(f"/requests/{request_id}/transitions/{trigger}", body, headers=headers)


class _Forms(HTMLParser):
    """Every <form> of a page: its action, method and the values a browser would send."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._textarea: tuple[dict, str] | None = None
        self._select: str | None = None
        self._templates = 0  # <template> content is not part of the form

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._templates += 1
        if self._templates:
            return
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action", ""),
                    "method": a.get("method", "get"),
                    "fields": [],
                    "selects": {},
                }
            )
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file"):
                return
            form["fields"].append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = (form, name)
            form["fields"].append((name, ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            form["fields"].append((self._select, a.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            form, name = self._textarea
            form["fields"][-1] = (name, form["fields"][-1][1] + data)

    def handle_endtag(self, tag):
        if tag == "template":
            self._templates -= 1
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Web:
    """A logged-in browser: `form(page, action_contains)` reads a form's fields from a page."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, data=None, **kwargs) -> requests.Response:
        return self.http.post(
            self.base + path, data=data, timeout=TIMEOUT, allow_redirects=False, **kwargs
        )

    def login(self, email: str, password: str, totp_secret: str | None = None) -> Web:
        """Log in through the pages; with a second factor, the current code, and "remember
        this browser" (the caller may keep that cookie for the next login)."""
        fields = self.form("/auth/login", "/auth/login")
        response = self.post("/auth/login", fields | {"email": email, "password": password})
        assert response.status_code in (302, 303), response.text[:500]
        if response.headers["Location"].endswith("/auth/two-factor"):
            assert totp_secret, f"{email} needs a second factor"
            fields = self.form("/auth/two-factor", "/auth/two-factor")
            code = second_factor.code_at(totp_secret, datetime.now(UTC))
            response = self.post("/auth/two-factor", fields | {"code": code, "remember": "y"})
            assert response.status_code in (302, 303), response.text[:500]
        return self

    def form(self, page: str, action_contains: str) -> dict[str, str]:
        """The fields of the first form on `page` whose action contains `action_contains`
        (repeated names keep their last value; use `form_pairs` for lists)."""
        return dict(self.form_pairs(page, action_contains))

    def form_pairs(self, page: str, action_contains: str) -> list[tuple[str, str]]:
        response = self.get(page)
        assert response.status_code == 200, (page, response.status_code, response.text[:500])
        for form in page_forms(response.text):
            if action_contains in form["action"]:
                return list(form["fields"])
        raise AssertionError(f"no form posting to {action_contains!r} on {page}")


def all_at_once(calls: list[Callable[[], object]]) -> list:
    """Run the calls in threads released together by a barrier; their results, in order."""
    barrier = threading.Barrier(len(calls), timeout=60)

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
