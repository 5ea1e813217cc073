"""Everything after the charge: tickets, the ticket PDF, the admission
session's end, and the emails (the tickets; later a cancellation, a refund).
Each step is idempotent and safe to run twice (the tasks and the sweep may
both run it).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from onsale.orders import inventory
from onsale.orders.documents import order_pdf_render
from onsale.orders.models import Order, OrderEmail, Ticket

logger = logging.getLogger(__name__)


def _ticket_code() -> str:
    # 120 random bits in base32-ish URL-safe text: unguessable, short enough
    # to type at a door if the QR will not scan.
    return secrets.token_urlsafe(15)


def order_tickets_issue(*, order_id: int) -> list[Ticket]:
    """Issue one ticket per line of a paid order; returns the order's tickets.

    Idempotent: lines that have a ticket are skipped and UNIQUE (line) stops
    two concurrent runs from making a second set (the loser reads the
    winner's). Orders that are not paid get no tickets.
    """
    order = Order.objects.get(pk=order_id)
    if order.state != Order.State.PAID:
        return list(order.tickets.all())
    missing = list(order.lines.filter(ticket__isnull=True))
    if missing:
        now = timezone.now()
        try:
            with transaction.atomic():
                Ticket.objects.bulk_create(
                    [
                        Ticket(
                            order=order,
                            line=line,
                            event_id=order.event_id,
                            code=_ticket_code(),
                            issued_at=now,
                        )
                        for line in missing
                    ]
                )
                Order.objects.filter(
                    pk=order_id, tickets_issued_at__isnull=True
                ).update(tickets_issued_at=now)
        except IntegrityError:
            logger.info("tickets issued concurrently", extra={"order_id": order_id})
    return list(Ticket.objects.filter(order_id=order_id).select_related("line"))


def order_pdf_store(*, order_id: int) -> str:
    """Render the order's ticket PDF and store it through Django's default
    storage (local disk, or S3 with django-storages); returns the file name.
    Done once: a stored PDF is kept, and of two concurrent renders the one
    that loses the conditional UPDATE deletes its file. The one recorded also
    deletes any file a render killed before recording left behind."""
    order = Order.objects.select_related("event").get(pk=order_id)
    if order.pdf:
        return order.pdf.name
    tickets = list(Ticket.objects.filter(order_id=order_id).select_related("line"))
    if not tickets:
        return ""
    content = order_pdf_render(order=order, tickets=tickets)
    name = default_storage.save(
        f"{_pdf_folder(order.pk)}/{_PDF_PREFIX}{secrets.token_hex(8)}.pdf",
        ContentFile(content),
    )
    if Order.objects.filter(pk=order_id, pdf="").update(pdf=name) != 1:
        default_storage.delete(name)
        order.refresh_from_db()
        return order.pdf.name
    _pdf_orphans_delete(order_id=order.pk, keep=name)
    return name


_PDF_PREFIX = "tickets-"


def _pdf_folder(order_id: int) -> str:
    return f"orders/{order_id}"


def _pdf_orphans_delete(*, order_id: int, keep: str) -> None:
    """Delete the order's other ticket PDFs, once `keep` is the recorded one:
    a render whose worker died between storing its file and recording it left
    one, and a concurrent render that lost deletes its own anyway."""
    folder = _pdf_folder(order_id)
    try:
        _folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for file_name in files:
        path = f"{folder}/{file_name}"
        if file_name.startswith(_PDF_PREFIX) and path != keep:
            default_storage.delete(path)
            logger.info(
                "orphaned ticket PDF deleted",
                extra={"order_id": order_id, "file": path},
            )


def order_url(*, order: Order) -> str:
    """The absolute address of the order's page, for emails: a mail client
    cannot follow a relative link (settings.ONSALE_PUBLIC_URL is its base)."""
    path = reverse("orders:order-detail-page", args=[order.pk])
    return f"{settings.ONSALE_PUBLIC_URL}{path}"


def _email_send_once(
    *,
    rows: QuerySet[Any],
    claimable: QuerySet[Any],
    claimed_field: str,
    sent_field: str,
    message: Callable[[], EmailMultiAlternatives],
) -> bool:
    """Send one email at most once: claim it for
    settings.ORDERS_EMAIL_CLAIM_SECONDS with a conditional UPDATE of
    `claimable` (the one row, if the email is still owed), send, then stamp
    `sent_field` on `rows`. A failed send releases the claim and raises (the
    task retries); a worker killed mid-send leaves the claim to run out. True
    if this call sent it."""
    now = timezone.now()
    claimed_until = now + timedelta(seconds=settings.ORDERS_EMAIL_CLAIM_SECONDS)
    claimed = (
        claimable.filter(**{f"{sent_field}__isnull": True})
        .filter(
            Q(**{f"{claimed_field}__isnull": True}) | Q(**{f"{claimed_field}__lt": now})
        )
        .update(**{claimed_field: claimed_until})
    )
    if claimed != 1:
        return False
    try:
        message().send()
    except Exception:
        rows.update(**{claimed_field: None})
        raise
    rows.update(**{sent_field: timezone.now(), claimed_field: None})
    return True


def order_email_language(*, order: Order) -> str:
    """The language the order's emails are written in: the one the fan
    ordered in, or the default language for an order placed before it was
    kept (or in a language no longer offered)."""
    if order.language in dict(settings.LANGUAGES):
        return order.language
    return settings.LANGUAGE_CODE


def _email(
    *, order: Order, subject: str, template: str, context: dict[str, Any]
) -> EmailMultiAlternatives:
    """A plain-text email with its HTML alternative, from
    `orders/email/<template>.txt` and `.html`, with absolute links. Call it
    with the order's language active (`order_email_language`)."""
    context = {"order": order, "order_url": order_url(order=order), **context}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"orders/email/{template}.txt", context),
        to=[order.buyer_email],
    )
    message.attach_alternative(
        render_to_string(f"orders/email/{template}.html", context), "text/html"
    )
    return message


def order_tickets_email_send(*, order_id: int) -> bool:
    """Email the buyer their tickets (codes, an absolute link to the order
    page with the QR codes and the PDF, and the PDF attached when
    settings.ORDERS_EMAIL_ATTACH_PDF) through Django's email backend. True if
    this call sent it.

    Sent once per order, and never lost: the send is claimed for
    settings.ORDERS_EMAIL_CLAIM_SECONDS by a conditional UPDATE, and
    `emailed_at` is set only once the mail server took the message. A failed
    send releases the claim and raises (the task retries); a worker killed
    mid-send leaves the claim to run out, after which the fulfilment sweep
    sends it again. Only a worker killed between the server's acceptance and
    the UPDATE that follows can make a second email."""

    def message() -> EmailMultiAlternatives:
        order = Order.objects.select_related("event").get(pk=order_id)
        tickets = list(Ticket.objects.filter(order_id=order_id).select_related("line"))
        # A worker has no request: the email speaks the fan's language.
        with translation.override(order_email_language(order=order)):
            email = _email(
                order=order,
                subject=gettext("Your tickets for %(event)s (order %(pk)s)")
                % {"event": order.event.name, "pk": order.pk},
                template="tickets",
                context={
                    "tickets": tickets,
                    "attach_pdf": settings.ORDERS_EMAIL_ATTACH_PDF,
                },
            )
        if settings.ORDERS_EMAIL_ATTACH_PDF and order.pdf:
            with default_storage.open(order.pdf.name, "rb") as handle:
                email.attach(
                    f"tickets-order-{order.pk}.pdf", handle.read(), "application/pdf"
                )
        return email

    rows = Order.objects.filter(pk=order_id)
    return _email_send_once(
        rows=rows,
        claimable=rows.filter(state=Order.State.PAID),
        claimed_field="email_claimed_until",
        sent_field="emailed_at",
        message=message,
    )


_NOTICE_SUBJECTS = {
    OrderEmail.Kind.CANCELLED: gettext_lazy(
        "Your order %(pk)s for %(event)s is cancelled"
    ),
    OrderEmail.Kind.REFUNDED: gettext_lazy("Your refund for order %(pk)s (%(event)s)"),
}


def order_notice_email_send(*, order_id: int, kind: str) -> bool:
    """Send an email the order owes its buyer (an `OrderEmail` row: that it
    was cancelled, that its money was refunded), plain text and HTML with an
    absolute link to the order page, through the ticket email's path: claimed
    for settings.ORDERS_EMAIL_CLAIM_SECONDS, `sent_at` stamped once the mail
    server took it, so a retried or redelivered task never sends it twice.
    False if this call sent nothing (not owed, already sent, claimed by
    another worker)."""

    def message() -> EmailMultiAlternatives:
        order = Order.objects.select_related("event").get(pk=order_id)
        with translation.override(order_email_language(order=order)):
            subject = str(_NOTICE_SUBJECTS[OrderEmail.Kind(kind)]) % {
                "pk": order.pk,
                "event": order.event.name,
            }
            return _email(order=order, subject=subject, template=kind, context={})

    rows = OrderEmail.objects.filter(order_id=order_id, kind=kind)
    return _email_send_once(
        rows=rows,
        claimable=rows,
        claimed_field="claimed_until",
        sent_field="sent_at",
        message=message,
    )


def order_emails_unsent(
    *, older_than_seconds: int, limit: int = 500
) -> list[OrderEmail]:
    """Owed emails still unsent `older_than_seconds` after they were owed
    (their task was lost or exhausted its retries), oldest first."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        OrderEmail.objects.filter(
            sent_at__isnull=True, created_at__lte=cutoff
        ).order_by("created_at")[:limit]
    )


def orders_unfulfilled_ids(*, older_than_seconds: int, limit: int = 500) -> list[int]:
    """Paid orders whose fulfilment (tickets or email) has not finished
    `older_than_seconds` after payment: their task was lost (a broker outage
    at enqueue time) or exhausted its retries."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Order.objects.filter(state=Order.State.PAID, paid_at__lte=cutoff)
        .filter(Q(tickets_issued_at__isnull=True) | Q(emailed_at__isnull=True))
        .order_by("paid_at")
        .values_list("pk", flat=True)[:limit]
    )


def order_fulfilment_run(*, order_id: int) -> Order:
    """Everything after the charge, each step idempotent: issue tickets, store
    the PDF when the email attaches it (otherwise it is rendered on its first
    download), end the shopper's admission session (frees their place in the
    waiting room's active cap)."""
    order_tickets_issue(order_id=order_id)
    if settings.ORDERS_EMAIL_ATTACH_PDF:
        order_pdf_store(order_id=order_id)
    order = Order.objects.get(pk=order_id)
    if order.access_session_id:
        inventory.admission_end(order=order)
    return order
