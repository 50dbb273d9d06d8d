"""Words (issue 16 item 5): what the pages and documents say, in the reader's language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flask_babel import force_locale

from app.extensions import db
from app.i18n import display_date, display_datetime
from app.reports.model import DATE, DATETIME
from app.reports.texts import format_value


def test_english_dates_read_day_month_year_like_italian_ones(app):
    moment = datetime(2024, 3, 14, 15, 8, tzinfo=UTC)  # 16:08 in Rome
    with app.test_request_context():
        with force_locale("en"):
            assert display_date(date(2024, 3, 14)) == "14 Mar 2024"
            assert display_datetime(moment) == "14 Mar 2024, 16:08"
            assert format_value(moment, DATETIME) == "14/03/2024 16:08"
            assert format_value(date(2024, 3, 14), DATE) == "14/03/2024"
        with force_locale("it"):
            assert display_date(date(2024, 3, 14)) == "14 mar 2024"
            assert display_datetime(moment) == "14/03/24, 16:08"
            assert format_value(moment, DATETIME) == "14/03/2024 16:08"


def test_no_jargon_on_the_request_page_in_either_language(cast, make, as_user):
    from tests.functional.test_information import compose, new_request

    request = new_request(make, cast, "assessment")
    assessor = as_user(cast.assessor)
    assert compose(assessor, request, [("Follow-up?", "")]).status_code == 302
    for language in ("en", "it"):
        cast.manufacturer.language = language
        db.session.commit()
        page = as_user(cast.manufacturer).get(f"/requests/{request.id}").get_data(as_text=True)
        text = re.sub(r"<[^>]+>", " ", page)
        for jargon in ("Round", "round ", "Clock stopped", "None"):
            assert jargon not in text, (language, jargon)


def test_every_page_names_a_favicon_that_is_served(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.data.startswith(b"<svg")
