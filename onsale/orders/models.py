"""Orders, their lines, tickets, and each event's refund policy.

Which seat is sold to whom is recorded once, in seat selection's `SeatSale`
(UNIQUE (event, seat)); an order's lines point at the seats it bought and its
seat-sale rows carry the order id as `order_reference`. Tickets are issued
after payment: one per line, each with a unique random code (the QR payload).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onsale.events.models import Event
from onsale.seatselection.models import PriceCategory, Seat


class Order(models.Model):
    """One checkout of one hold.

    States: pending -> paid -> (cancelled | refunded); pending -> failed |
    expired. Every change is a conditional UPDATE ... WHERE state = <from>
    whose row count is checked (`services.order_transition`), so two actors
    (the charge task, the expiry task, a webhook) can never both move an order.
    A pending order holds its seats (seat-sale rows); failed, expired,
    cancelled and refunded orders have released them. `payment_key` is the
    provider's idempotency key for the charge: derived from the order id, so a
    retried charge can never be a second charge.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending payment")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="orders")
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING
    )
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    hold_id = models.BigIntegerField()
    # The hold while this order is its live checkout (pending or paid);
    # cleared when the order fails or expires. UNIQUE per event: a hold has
    # one live order at a time, yet may be checked out again after a decline
    # (the hold is kept for that). NULLs do not collide.
    live_hold_id = models.BigIntegerField(null=True, blank=True)
    access_session_id = models.CharField(max_length=64, blank=True)
    buyer_name = models.CharField(max_length=200)
    buyer_email = models.EmailField(max_length=254)
    # The language the fan ordered in (a code from settings.LANGUAGES): the
    # order's emails are written in it, whichever worker sends them. Empty for
    # orders placed before it was kept: they get the default language.
    language = models.CharField(max_length=16, blank=True)
    payment_provider = models.CharField(max_length=32, blank=True)
    # The provider's reusable payment method id (what its browser SDK returns;
    # for the fake provider "tok_<test card>"), so a retried charge can be
    # re-sent with the same idempotency key. Never a card number.
    payment_token = models.CharField(max_length=255, blank=True)
    charge_id = models.CharField(max_length=64, blank=True)
    refund_id = models.CharField(max_length=64, blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    failure_reason = models.CharField(max_length=64, blank=True)
    # When a charge attempt first ended without an answer (a timeout): from
    # then on the fan is told the payment is being confirmed with the bank
    # while the retries run.
    charge_unknown_since = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to="orders/", blank=True, max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    tickets_issued_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # A worker sending the email claims it until then; a worker killed
    # mid-send leaves the claim to run out, and the sweep sends it again.
    email_claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["state", "expires_at"]),
            models.Index(fields=["event", "state"]),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="order_total_not_negative"
            ),
            models.UniqueConstraint(
                fields=["event", "live_hold_id"], name="order_one_live_per_hold"
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.state})"

    @property
    def payment_key(self) -> str:
        return f"order-{self.pk}"

    @property
    def refund_key(self) -> str:
        return f"order-{self.pk}-refund"


class OrderLine(models.Model):
    """One seat (or one general-admission place, `seat` empty) of an order,
    priced from the server's price category at checkout; a client-sent price
    is never used."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # SET_NULL: a line keeps its label, category name and price, so a seat
    # map replaced after a failed order (nothing sold) loses nothing it needs.
    seat = models.ForeignKey(
        Seat, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        PriceCategory, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    category_name = models.CharField(max_length=100)
    seat_label = models.CharField(max_length=64)
    price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering: ClassVar = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.seat_label} {self.price}"


class Ticket(models.Model):
    """The ticket for one order line: `code` is unique and random (the QR
    payload checked at the door). Issued once per line (UNIQUE line), so a
    retried issuing task cannot make a second set. `voided_at` is set when the
    order is cancelled or refunded."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tickets")
    line = models.OneToOneField(
        OrderLine, on_delete=models.CASCADE, related_name="ticket"
    )
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["order", "line"]

    def __str__(self) -> str:
        return f"ticket {self.code}"

    @property
    def qr_payload(self) -> str:
        return f"ONSALE:{self.event_id}:{self.code}"


class RefundPolicy(models.Model):
    """An event's refund policy. Fans may cancel a paid order while
    `refunds_allowed` and until `cutoff_hours` before the event starts. Events
    without a row use the default (settings.ORDERS_REFUND_CUTOFF_HOURS)."""

    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, related_name="refund_policy"
    )
    refunds_allowed = models.BooleanField(default=True)
    cutoff_hours = models.PositiveIntegerField(default=48)

    def __str__(self) -> str:
        if not self.refunds_allowed:
            return "no refunds"
        return f"refunds until {self.cutoff_hours} h before start"


class OrderEmail(models.Model):
    """An email owed to an order's buyer after its ticket email: that it was
    cancelled, that its money was refunded. One row per (order, kind),
    UNIQUE, written when the order changes, so the email is owed exactly
    once however often the change is reported. Sent like the ticket email:
    a worker claims it until `claimed_until` (a worker killed mid-send
    leaves the claim to run out, then the sweep sends it), `sent_at` once
    the mail server took it."""

    class Kind(models.TextChoices):
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["order", "kind"], name="order_email_once")
        ]
        indexes: ClassVar = [models.Index(fields=["sent_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} email of order {self.order_id}"
