"""Pure builders for the register's downloads: rows in, bytes out (the view sets the headers).

* CSV: UTF-8 with a byte-order mark (so spreadsheet programs detect the encoding); a cell that
  starts with "=", "+", "-", "@" (or a tab or carriage return) is prefixed with an apostrophe so
  that no spreadsheet evaluates it as a formula.
* Atom (RFC 4287): built with xml.etree, which escapes text and attributes; timestamps in
  RFC 3339, UTC.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET  # building only; nothing here parses untrusted XML
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# --- CSV -------------------------------------------------------------------------------------


def csv_cell(value) -> str:
    """One cell as text: dates in ISO 8601, None empty, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return neutralise(str(value))


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_bytes(header: Sequence[str], records: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for record in records:
        writer.writerow([csv_cell(value) for value in record])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


# --- Atom ------------------------------------------------------------------------------------


def rfc3339(moment: datetime) -> str:
    """An aware moment as RFC 3339 in UTC, e.g. 2026-03-01T09:30:00Z."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    link: str
    published: datetime
    updated: datetime
    summary: str
    category: str = ""


@dataclass(frozen=True)
class FeedInfo:
    id: str
    title: str
    subtitle: str
    self_url: str
    alternate_url: str
    author: str
    updated: datetime
    language: str = "it"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _entry(feed: ET.Element, entry: FeedEntry) -> None:
    element = _sub(feed, "entry")
    _sub(element, "id", entry.id)
    _sub(element, "title", entry.title, type="text")
    _sub(element, "link", rel="alternate", type="text/html", href=entry.link)
    _sub(element, "published", rfc3339(entry.published))
    _sub(element, "updated", rfc3339(entry.updated))
    if entry.category:
        _sub(element, "category", term=entry.category)
    _sub(element, "summary", entry.summary, type="text")


def atom_bytes(info: FeedInfo, entries: Iterable[FeedEntry]) -> bytes:
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: info.language})
    _sub(feed, "id", info.id)
    _sub(feed, "title", info.title, type="text")
    _sub(feed, "subtitle", info.subtitle, type="text")
    _sub(feed, "link", rel="self", type="application/atom+xml", href=info.self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=info.alternate_url)
    _sub(feed, "updated", rfc3339(info.updated))
    author = _sub(feed, "author")
    _sub(author, "name", info.author)
    for entry in entries:
        _entry(feed, entry)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
