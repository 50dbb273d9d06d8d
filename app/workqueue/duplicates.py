"""The agency queue's "possible duplicate" flags from plain columns.

`app.assessment.reuse.duplicate_flags` loads every candidate request as an ORM object (with
its manufacturer) and validates each one's identifiers (check digits, EMDN codes) on every
view: most of the queue's time. This gives the same counts (tests/functional compare them)
from the identifier columns alone: the same candidates (reuse's conditions, as one IN per
kind), each set of identifiers turned into its canonical keys by `app.domain.reuse.keys_of`
once per process (a pure function of the four values, so the cache is exact), and the same
rule (`match_reasons`, `is_duplicate`: the same Basic UDI-DI or UDI-DI key, SAME_DEVICE).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import Integer, String, any_, bindparam, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY

from app.domain.reuse import (
    MATCH_BASIC_UDI_DI,
    MATCH_UDI_DI,
    SAME_DEVICE,
    DeviceKeys,
    keys_of,
)
from app.extensions import db
from app.models import DeviceRequest


@lru_cache(maxsize=65536)
def device_keys(
    basic_udi_di: str | None, udi_di: str | None, emdn_code: str | None, manufacturer_id: int | None
) -> DeviceKeys:
    return keys_of(
        SimpleNamespace(
            basic_udi_di=basic_udi_di,
            udi_di=udi_di,
            emdn_code=emdn_code,
            manufacturer_id=manufacturer_id,
        )
    )


if {MATCH_BASIC_UDI_DI, MATCH_UDI_DI} != SAME_DEVICE:  # (the rule below spells them out)
    raise RuntimeError("duplicate_counts must follow app.domain.reuse.SAME_DEVICE")

_CANDIDATES: dict = {}
_COLUMNS = (
    DeviceRequest.id,
    DeviceRequest.basic_udi_di,
    DeviceRequest.udi_di,
    DeviceRequest.emdn_code,
    DeviceRequest.manufacturer_id,
)


def _candidates_statement(basic: bool, udi: bool, emdn: bool):
    """The candidates' SELECT, built once per shape: reuse's OR of equalities per request,
    written as one IN per kind (the same rows), with expanding parameters."""
    statement = _CANDIDATES.get((basic, udi, emdn))
    if statement is None:
        conditions = []
        if basic:
            conditions.append(DeviceRequest.basic_udi_di.in_(bindparam("basic", expanding=True)))
        if udi:
            conditions.append(DeviceRequest.udi_di.in_(bindparam("udi", expanding=True)))
        if emdn:
            conditions.append(
                tuple_(DeviceRequest.emdn_code, DeviceRequest.manufacturer_id).in_(
                    bindparam("emdn", expanding=True)
                )
            )
        statement = _CANDIDATES[(basic, udi, emdn)] = select(*_COLUMNS).where(
            or_(*conditions), DeviceRequest.state != "draft"
        )
    return statement


_TEXTS, _NUMBERS = ARRAY(String), ARRAY(Integer)


@lru_cache(maxsize=8)
def _candidates_by_arrays(basic: bool, udi: bool, emdn: bool):
    """PostgreSQL: the same candidates, each kind's values as one array parameter (`= ANY`,
    and the EMDN code and manufacturer pairs unnested side by side): one SQL text per shape
    whatever the page holds, so psycopg prepares it once, instead of SQLAlchemy expanding
    and PostgreSQL planning about a hundred parameters on every view. A kind without values
    is left out, as in `_candidates_statement` (the pairs alone are looked up through the
    EMDN code's index; an OR with the UDI columns, which have none, reads the table either
    way)."""
    conditions = []
    if basic:
        conditions.append(DeviceRequest.basic_udi_di == any_(bindparam("basic", type_=_TEXTS)))
    if udi:
        conditions.append(DeviceRequest.udi_di == any_(bindparam("udi", type_=_TEXTS)))
    if emdn:
        pairs = (
            func.unnest(
                bindparam("emdn_codes", type_=_TEXTS), bindparam("emdn_makers", type_=_NUMBERS)
            )
            .table_valued("code", "maker")
            .render_derived()
        )
        conditions.append(
            tuple_(DeviceRequest.emdn_code, DeviceRequest.manufacturer_id).in_(
                select(pairs.c.code, pairs.c.maker)
            )
        )
    return select(*_COLUMNS).where(or_(*conditions), DeviceRequest.state != "draft")


def candidates_read(requests: list[tuple]) -> tuple | None:
    """(the candidates' SELECT, its parameters) for (id, basic UDI-DI, UDI-DI, EMDN code,
    manufacturer id) tuples; None when none has an identifier (nothing to look up). The
    SELECT is built once per shape (which kinds have values) and database."""
    basics: set[str] = set()
    udis: set[str] = set()
    emdns: set[tuple] = set()
    for _id, basic_udi_di, udi_di, emdn_code, manufacturer_id in requests:
        if basic_udi_di:
            basics.add(basic_udi_di)
        if udi_di:
            gtin = udi_di.strip()
            udis.update((gtin, gtin.lstrip("0"), gtin.zfill(14)))
        if emdn_code:
            emdns.add((emdn_code, manufacturer_id))
    if not (basics or udis or emdns):
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        pairs = sorted(emdns)
        parameters = {
            "basic": sorted(basics),
            "udi": sorted(udis),
            "emdn_codes": [code for code, _maker in pairs],
            "emdn_makers": [maker for _code, maker in pairs],
        }
        statement = _candidates_by_arrays(bool(basics), bool(udis), bool(emdns))
    else:
        parameters = {"basic": sorted(basics), "udi": sorted(udis), "emdn": sorted(emdns)}
        statement = _candidates_statement(bool(basics), bool(udis), bool(emdns))
    return statement, {name: values for name, values in parameters.items() if values}


def duplicate_counts(requests: Iterable[tuple]) -> dict[int, int]:
    """{request id: how many other requests concern the same device} (only ids with some),
    for (id, basic UDI-DI, UDI-DI, EMDN code, manufacturer id) tuples. One statement."""
    requests = [r for r in requests if r[0] is not None]
    read = candidates_read(requests)
    if read is None:
        return {}
    statement, parameters = read
    return counts_among(requests, db.session.execute(statement, parameters).all())


def counts_among(requests: list[tuple], candidates) -> dict[int, int]:
    """`duplicate_counts` of `requests` given the rows of their candidates' SELECT
    (`candidates_read`: id and the four identifiers)."""
    # `is_duplicate(match_reasons(a, b))` holds when a's basic UDI-DI key or UDI-DI key is
    # b's (the SAME_DEVICE reasons): the candidates sharing either key, looked up by key.
    by_basic: dict[str, set[int]] = {}
    by_udi: dict[str, set[int]] = {}
    for row in candidates:
        keys = device_keys(*row[1:])
        if keys.basic_udi_di:
            by_basic.setdefault(keys.basic_udi_di, set()).add(row[0])
        if keys.udi_di:
            by_udi.setdefault(keys.udi_di, set()).add(row[0])
    counts: dict[int, int] = {}
    for request_id, *identifiers in requests:
        keys = device_keys(*identifiers)
        same = set()
        if keys.basic_udi_di:
            same |= by_basic.get(keys.basic_udi_di, set())
        if keys.udi_di:
            same |= by_udi.get(keys.udi_di, set())
        same.discard(request_id)
        if same:
            counts[request_id] = len(same)
    return counts
