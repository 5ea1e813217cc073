"""The seats of an event: its seat map (sections, seats, price
categories, general-admission areas) and the record of sold seats."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone

from onsale.events.models import Event


class SeatMap(models.Model):
    """The layout of an event's venue: one per event, replaced as a whole.

    `layout_version` grows with every replacement; clients and caches key the
    (large, long-cacheable) map on it, and the Redis seat state is built for
    one `layout_version:layout_token` (its seat indexes mean nothing for
    another). `blocked_version` grows with every change
    to the set of blocked seats, so Redis can tell a newer blocked set from an
    older one when it is rebuilt while the organizer edits (see
    `seat_state.seat_state_ensure`). `seat_count` is the number of seats; seat
    indexes run from 0 to `seat_count - 1`.
    """

    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, related_name="seatmap"
    )
    layout_version = models.PositiveIntegerField(default=1)
    # New with every replacement: tells two layouts apart even where version
    # numbers repeat (a database restored or recreated under a live Redis).
    layout_token = models.UUIDField(default=uuid.uuid4, editable=False)
    blocked_version = models.PositiveIntegerField(default=1)
    seat_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"seat map of event {self.event_id} v{self.layout_version}"


class PriceCategory(models.Model):
    """A price level of an event, in the event's currency.

    Reserved-seating categories price the seats that point at them. A
    general-admission category has no seats but a `capacity`; `ga_sold` counts
    its sold places and is only ever raised by a conditional UPDATE that keeps
    it within the capacity (the database constraint is the last guard).
    """

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="categories"
    )
    code = models.CharField(max_length=16)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    color = models.CharField(max_length=7, default="#0b5cad")
    position = models.PositiveSmallIntegerField(default=0)
    general_admission = models.BooleanField(default=False)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    ga_sold = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["event", "position"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["event", "code"], name="price_category_code_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0),
                name="price_category_price_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(general_admission=False) | models.Q(capacity__gt=0),
                name="price_category_ga_has_capacity",
            ),
            models.CheckConstraint(
                condition=models.Q(general_admission=False)
                | models.Q(ga_sold__lte=models.F("capacity")),
                name="price_category_ga_within_capacity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.price}"


class Section(models.Model):
    """A named block of seats (a stand, a balcony). `position` orders sections in
    the map as the organizer listed them; best-available prefers earlier
    sections among rows of equal rank."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField()

    class Meta:
        ordering: ClassVar = ["event", "position"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["event", "name"], name="section_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Seat(models.Model):
    """One reserved seat.

    `index` numbers the event's seats densely from 0; it is the seat's bit in
    the Redis availability bitmaps. `row_rank` orders rows by quality (lower is
    better; by default the row's place in its section) and `position` orders
    seats within their row, so seats with consecutive positions in one row are
    adjacent. `blocked` seats (kills, production holds) are never offered.
    """

    class Accessibility(models.IntegerChoices):
        WHEELCHAIR = 1, "wheelchair"
        COMPANION = 2, "companion"
        STEP_FREE = 4, "step_free"
        HEARING_LOOP = 8, "hearing_loop"
        RESTRICTED_VIEW = 16, "restricted_view"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="seats")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="seats")
    category = models.ForeignKey(
        PriceCategory, on_delete=models.PROTECT, related_name="seats"
    )
    index = models.PositiveIntegerField()
    row_label = models.CharField(max_length=16)
    row_rank = models.PositiveIntegerField()
    row_order = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    label = models.CharField(max_length=16)
    x = models.FloatField()
    y = models.FloatField()
    accessibility = models.PositiveSmallIntegerField(default=0)
    blocked = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar = ["event", "index"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["event", "index"], name="seat_index_unique"
            ),
            models.UniqueConstraint(
                fields=["section", "row_label", "label"], name="seat_label_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.section_id} {self.row_label}-{self.label}"


class SeatSale(models.Model):
    """Who bought which seat: the truth the Redis "sold" bitmap is rebuilt from.

    One row per (event, seat), UNIQUE, so a seat can never be sold twice even if
    Redis lost a hold. Written by `sales.sale_record` inside the checkout's
    transaction; `hold_id` is the fencing token of the hold that was sold and
    `order_reference` lets checkout tie the row to its order (the ticket table
    can reference this row or replace it: see `layout.sold_seat_ids`).
    """

    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="seat_sales"
    )
    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="sales")
    user = models.ForeignKey(
        "usermgmt.User", on_delete=models.PROTECT, related_name="seat_sales"
    )
    hold_id = models.BigIntegerField()
    order_reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["event", "seat"], name="seat_sale_unique"),
        ]

    def __str__(self) -> str:
        return f"seat {self.seat_id} sold (hold {self.hold_id})"
