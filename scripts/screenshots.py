"""Screenshots of each role's home page and of a request page, on the demo data, for the README
(`make screenshots`; writes docs/screenshots/*.png). Headless Chromium through Playwright, the
app served from a fresh SQLite file with `flask seed-demo`'s data, in Italian, 1280 px wide.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import DeviceRequest  # noqa: E402
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, serving  # noqa: E402
from tests.demo_site import demo_app, log_in_demo  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
ROLES = ("agency", "assessor", "irccs", "manufacturer", "admin")
# The request page is shown to the agency, in public consultation (a full history).
REQUEST_STATE = "consultation"


def _request_id(app) -> int:
    with app.app_context():
        found = db.session.scalar(
            select(DeviceRequest.id).where(DeviceRequest.state == REQUEST_STATE).limit(1)
        )
        db.session.remove()
    return found


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = demo_app(Path(folder), copies=2)  # as `make run` loads it
        request_id = _request_id(app)
        with serving(app) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            for role in ROLES:
                context = browser.new_context(
                    base_url=url, viewport={"width": 1280, "height": 900}, locale="it-IT"
                )
                page = context.new_page()
                log_in_demo(page, role)
                page.goto("/")
                page.screenshot(path=str(OUT / f"home-{role}.png"), full_page=True)
                if role == "agency":
                    page.goto(f"/requests/{request_id}")
                    page.screenshot(path=str(OUT / "request-page.png"), full_page=True)
                context.close()
            browser.close()
    for shot in sorted(OUT.glob("*.png")):
        print(shot.relative_to(ROOT))


if __name__ == "__main__":
    main()
