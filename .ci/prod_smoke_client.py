"""The HTTP half of the production smoke test (.ci/prod-smoke): run by the freshly installed
virtual environment's Python (standard library and pyotp, a dependency of the app), against a
server started by boot.sh from the installed wheel.

    prod_smoke_client.py BASE_URL EMAIL PASSWORD

Checks, as a load balancer and a first administrator would meet them: /healthz and /readyz
answer 200; the administrator logs in, sets up the second factor their role requires (the key
read from the enrolment page, the code computed as an authenticator app would), and the request
list and the work queue answer 200 in Italian, with the app's stylesheet and a script served;
/metrics (a loopback client) counts each of those pages once, whichever of the two gunicorn
workers answered it (the workers' values are added up), and shows the notification backlog.
Exits non-zero, saying what failed, on the first difference.
"""

from __future__ import annotations

import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

import pyotp

TIMEOUT = 30


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect
        )

    def request(self, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data)  # noqa: S310  (http://127.0.0.1)
        req.add_header("Accept-Language", "it")
        try:
            with self.opener.open(req, timeout=TIMEOUT) as answer:
                return answer.status, dict(answer.headers), answer.read().decode()
        except urllib.error.HTTPError as answer:  # 3xx (not followed), 4xx, 5xx
            return answer.code, dict(answer.headers), answer.read().decode(errors="replace")


def check(condition: bool, what: str, detail: str = "") -> None:
    if not condition:
        sys.exit(f"prod-smoke: FAILED: {what}\n{detail[:2000]}")
    print(f"prod-smoke: ok: {what}")


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    check(found is not None, "the form carries a CSRF token", page)
    return found.group(1)


def main(base: str, email: str, password: str) -> None:
    browser = Browser(base)
    for probe in ("/healthz", "/readyz"):
        status, _headers, body = browser.request(probe)
        check(status == 200, f"{probe} answers 200", body)

    status, _headers, page = browser.request("/auth/login")
    check(status == 200, "the login page answers 200", page)
    form = {"csrf_token": csrf_token(page), "email": email, "password": password}
    status, headers, body = browser.request("/auth/login", form)
    check(status in (302, 303), "the password is accepted", body)
    check(
        headers.get("Location", "").endswith("/auth/two-factor/setup"),
        "an administrator is sent to set up the second factor",
        str(headers),
    )

    status, _headers, page = browser.request("/auth/two-factor/setup")
    check(status == 200, "the enrolment page answers 200", page)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    check(secret is not None, "the enrolment page shows the key", page)
    code = pyotp.TOTP(secret.group(1)).now()
    form = {"csrf_token": csrf_token(page), "code": code}
    status, _headers, page = browser.request("/auth/two-factor/setup", form)
    check(
        status == 200 and 'id="recovery-codes"' in page,
        "the second factor is on (the recovery codes are shown)",
        page,
    )

    for path in ("/requests/", "/work/"):
        status, _headers, page = browser.request(path)
        check(status == 200, f"{path} answers 200 to the administrator", page)
        # "Esci" (log out): the compiled Italian catalogue shipped in the wheel is used.
        check('lang="it"' in page and ">Esci<" in page, f"{path} is in Italian", page)
        assets = re.findall(r'(?:href|src)="(/static/[^"?]+)', page)
        check(any(a.endswith(".css") for a in assets), f"{path} links a stylesheet", page)
        for asset in assets:
            status, _headers, body = browser.request(asset)
            check(status == 200 and body, f"{asset} is served", body)

    status, _headers, text = browser.request("/metrics")
    check(status == 200, "/metrics answers a loopback client", text)
    # Each page was asked for once, whichever of the two workers answered: the scrape adds up
    # every worker's values (multiprocess mode), so each counts exactly 1.
    counted = {
        (labels["route"], labels["method"], labels["status"]): float(value)
        for labels, value in _samples(text, "hta_http_requests_total")
    }
    for page in (
        ("/auth/login", "GET", "200"),
        ("/auth/login", "POST", "302"),
        ("/auth/two-factor/setup", "GET", "200"),
        ("/auth/two-factor/setup", "POST", "200"),
        ("/requests/", "GET", "200"),
        ("/work/", "GET", "200"),
    ):
        check(counted.get(page) == 1, f"/metrics counts {' '.join(page)} once", str(counted))
    for name in ("hta_notifications_pending", "hta_notifications_oldest_pending_age_seconds"):
        check(re.search(rf"^{name} \S+$", text, re.M) is not None, f"/metrics shows {name}", text)


def _samples(text: str, name: str):
    """(labels, value) of each sample of `name` in a Prometheus text page."""
    for labels, value in re.findall(rf"^{name}\{{([^}}]*)\}} (\S+)$", text, re.M):
        yield dict(re.findall(r'(\w+)="([^"]*)"', labels)), value


if __name__ == "__main__":
    main(*sys.argv[1:4])
