"""Writing seat maps: replacing an event's map as a whole and blocking or
unblocking seats."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from onsale.events.models import Event
from onsale.platform import db
from onsale.seatselection.exceptions import SeatMapLocked
from onsale.seatselection.models import PriceCategory, Seat, SeatMap, SeatSale, Section
from onsale.seatselection.seat_state import (
    _seat_state_block_push,
    seat_state_ensure,
)
from onsale.seatselection.seatmaps.parse import (
    SeatMapSpec,
    _invalid,
    seatmap_parse,
)
from onsale.usermgmt.audit import audit_record
from onsale.usermgmt.models import User

# --- Seat maps: writing ---------------------------------------------------------

_SEAT_BATCH = 5000


def seatmap_replace_refusal(*, event: Event) -> SeatMapLocked | None:
    """Why `seatmap_replace` would refuse to replace the event's map now (the
    on-sale of the published event started, or anything was sold), or None
    when it may. Read without a lock: the replacement checks again under one."""
    started = (
        event.status == Event.Status.PUBLISHED and event.onsale_at <= timezone.now()
    )
    sold = (
        SeatSale.objects.filter(event=event).exists()
        or PriceCategory.objects.filter(event=event, ga_sold__gt=0).exists()
    )
    if started or sold:
        return SeatMapLocked(extra={"onsale_started": started, "seats_sold": sold})
    return None


def _seatmap_check_replaceable(event: Event) -> None:
    refusal = seatmap_replace_refusal(event=event)
    if refusal is not None:
        raise refusal


def seatmap_replace(*, event: Event, data: Any, actor: User | None = None) -> SeatMap:
    """Replace the event's whole seat map (categories, sections, seats) with
    `data` (see `seatmap_parse`), in one transaction.

    Everything is validated before the first write, and the writes share one
    transaction, so a refused or failed load leaves the old map untouched.
    Seats are inserted in batches of 5,000 (a 50,000-seat stadium takes a few
    seconds; see `_seats_insert`). Refused with `SeatMapLocked` once the on-sale of a published
    event has started or anything was sold: seat indexes would change under
    holds and tickets. After the commit, the event's Redis seat state is built
    afresh from the new map (holds made before the on-sale are dropped) and
    every process reloads the layout (within seconds even if that step is
    lost: the state carries its layout version and is rebuilt on mismatch).
    Audited as `seatmap.replace` (counts, not the whole map).
    """
    spec = seatmap_parse(data=data)
    with transaction.atomic():
        locked = db.locked(Event.objects.all()).get(pk=event.pk)
        _seatmap_check_replaceable(locked)
        # Plain DELETEs: nothing references these rows (no sale, checked above),
        # and the ORM's cascade collector would load 50,000 seats to delete them.
        with connection.cursor() as cursor:
            for model in (Seat, Section, PriceCategory):
                cursor.execute(
                    f"DELETE FROM {model._meta.db_table} WHERE event_id = %s",  # noqa: S608 - table names come from the models
                    [locked.pk],
                )
        PriceCategory.objects.bulk_create(
            [
                PriceCategory(
                    event=locked,
                    code=category.code,
                    name=category.name,
                    price=category.price,
                    color=category.color,
                    position=position,
                    general_admission=category.general_admission,
                    capacity=category.capacity,
                )
                for position, category in enumerate(spec.categories)
            ]
        )
        Section.objects.bulk_create(
            [
                Section(event=locked, name=name, position=position)
                for position, name in enumerate(spec.sections)
            ]
        )
        category_pk = dict(
            PriceCategory.objects.filter(event=locked).values_list("code", "pk")
        )
        section_pk = dict(
            Section.objects.filter(event=locked).values_list("position", "pk")
        )
        _seats_insert(
            event_id=locked.pk,
            spec=spec,
            section_pk=section_pk,
            category_pk=category_pk,
        )
        seatmap, created = db.locked(SeatMap.objects.all()).get_or_create(
            event=locked, defaults={"seat_count": len(spec.seats)}
        )
        if not created:
            seatmap.layout_version += 1
            seatmap.layout_token = uuid.uuid4()
            seatmap.blocked_version += 1
            seatmap.seat_count = len(spec.seats)
            seatmap.save()
        event_id = locked.pk
        audit_record(
            actor=actor,
            organization=locked.organization_id,
            event_id=event_id,
            action="seatmap.replace",
            before={} if created else {"layout_version": seatmap.layout_version - 1},
            after={
                "layout_version": seatmap.layout_version,
                "seat_count": len(spec.seats),
                "sections": len(spec.sections),
                "categories": {c.code: c.price for c in spec.categories},
            },
        )
        transaction.on_commit(lambda: seat_state_ensure(event_id=event_id), robust=True)
    return seatmap


_SEAT_COLUMNS = (
    "event_id",
    "section_id",
    "category_id",
    "index",
    "row_label",
    "row_rank",
    "row_order",
    "position",
    "label",
    "x",
    "y",
    "accessibility",
    "blocked",
)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.column)


def _seats_insert(
    *,
    event_id: int,
    spec: SeatMapSpec,
    section_pk: dict[int, int],
    category_pk: dict[str, int],
) -> None:
    """Insert the seats in batches of 5,000 rows with multi-row INSERTs.

    Not `bulk_create`: the ORM compiles every field of every row to SQL in
    Python, which made a 50,000-seat map take ~8 s here; plain `executemany`
    (which MySQLdb turns into multi-row INSERTs) writes the same rows in about
    a quarter of the time. Column names come from the model, so they stay in
    step with it.
    """
    meta = Seat._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(_column(Seat, name.removesuffix("_id"))) for name in _SEAT_COLUMNS
    )
    placeholders = ", ".join(["%s"] * len(_SEAT_COLUMNS))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names come from the model
    with connection.cursor() as cursor:
        for start in range(0, len(spec.seats), _SEAT_BATCH):
            cursor.executemany(
                sql,
                [
                    (
                        event_id,
                        section_pk[seat.section],
                        category_pk[seat.category],
                        start + offset,
                        seat.row_label,
                        seat.row_rank,
                        seat.row_order,
                        seat.position,
                        seat.label,
                        seat.x,
                        seat.y,
                        seat.accessibility,
                        seat.blocked,
                    )
                    for offset, seat in enumerate(
                        spec.seats[start : start + _SEAT_BATCH]
                    )
                ],
            )


def seats_block_set(
    *,
    event: Event,
    seat_ids: Sequence[int],
    blocked: bool,
    actor: User | None = None,
) -> SeatMap:
    """Block (kills, production holds) or unblock seats of the event.

    Blocked seats are never offered and cannot be held; a seat already held
    stays with its holder until the hold ends, and a sold seat stays sold.
    Unknown seat ids (or another event's) are `SeatMapInvalid` and nothing
    changes. The blocked set carries a version, so Redis always ends up with
    the newest set even when a rebuild runs at the same time. Audited as
    `seats.block` / `seats.unblock` with the seat ids.
    """
    wanted = set(seat_ids)
    with transaction.atomic():
        seatmap = db.locked(SeatMap.objects.filter(event=event)).first()
        if seatmap is None:
            raise _invalid("seatmap_not_found", "This event has no seat map.", "map")
        found = set(
            Seat.objects.filter(event=event, pk__in=wanted).values_list("pk", flat=True)
        )
        missing = sorted(wanted - found)
        if missing:
            raise _invalid(
                "seatmap_unknown_seat",
                "Some seats are not part of this event's map.",
                "seat_ids",
                seat_ids=missing[:50],
            )
        Seat.objects.filter(event=event, pk__in=wanted).update(blocked=blocked)
        seatmap.blocked_version += 1
        seatmap.save(update_fields=["blocked_version", "updated_at"])
        event_id = event.pk
        audit_record(
            actor=actor,
            organization=event.organization_id,
            event_id=event_id,
            action="seats.block" if blocked else "seats.unblock",
            before={"blocked_version": seatmap.blocked_version - 1},
            after={"blocked_version": seatmap.blocked_version, "seat_ids": wanted},
        )
        # If Redis is unreachable now, the periodic reconcile applies it.
        transaction.on_commit(
            lambda: _seat_state_block_push(event_id=event_id), robust=True
        )
    return seatmap
