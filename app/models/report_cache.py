"""Report figures shared by every app process (`app.reports_pages.queries.common.cached`).

Each gunicorn worker keeps the figures it computed in memory; on PostgreSQL the expensive ones
(the adoption and timing reports' aggregates, up to a second or more at 100k requests) are also
written here, so that the other workers, and the other app servers, read them instead of each
computing them again after every change. One row per kind and key (filters, reader): `version`
is the data version they were computed at (`data_version()`: a row of an older version is
never read, and the next computation replaces it), `value` the pickled figures, signed with
the app's secret key (a row altered in the database is ignored, never unpickled).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class ReportCacheEntry(db.Model):
    __tablename__ = "report_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of kind and key
    version: Mapped[str] = mapped_column(String(200))
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[bytes] = mapped_column(LargeBinary)
