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

from sqlalchemy import bindparam, or_, select, tuple_

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
        statement = _CANDIDATES[(basic, udi, emdn)] = select(
            DeviceRequest.id,
            DeviceRequest.basic_udi_di,
            DeviceRequest.udi_di,
            DeviceRequest.emdn_code,
            DeviceRequest.manufacturer_id,
        ).where(or_(*conditions), DeviceRequest.state != "draft")
    return statement


def duplicate_counts(requests: Iterable[tuple]) -> dict[int, int]:
    """{request id: how many other requests concern the same device} (only ids with some),
    for (id, basic UDI-DI, UDI-DI, EMDN code, manufacturer id) tuples. One statement."""
    requests = [r for r in requests if r[0] is not None]
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
        return {}
    parameters = {"basic": sorted(basics), "udi": sorted(udis), "emdn": sorted(emdns)}
    statement = _candidates_statement(bool(basics), bool(udis), bool(emdns))
    candidates = db.session.execute(
        statement, {name: values for name, values in parameters.items() if values}
    ).all()
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
