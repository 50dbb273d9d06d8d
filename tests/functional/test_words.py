"""Words (issue 16 item 5): what the pages and documents say, in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import force_locale

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
