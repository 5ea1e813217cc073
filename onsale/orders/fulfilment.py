"""Everything after the charge: tickets, the ticket PDF, the admission
session's end, and the email. Each step is idempotent and safe to run twice
(the fulfilment task and the sweep may both run it).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from onsale.orders import inventory
from onsale.orders.documents import order_pdf_render
from onsale.orders.models import Order, Ticket

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


def order_tickets_email_send(*, order_id: int, site_url: str = "") -> bool:
    """Email the buyer their tickets (codes, a link to the order page with the
    QR codes and the PDF, and the PDF attached when
    settings.ORDERS_EMAIL_ATTACH_PDF) through Django's email backend. True if
    this call sent it.

    Sent once per order, and never lost: the send is claimed for
    settings.ORDERS_EMAIL_CLAIM_SECONDS by a conditional UPDATE, and
    `emailed_at` is set only once the mail server took the message. A failed
    send releases the claim and raises (the task retries); a worker killed
    mid-send leaves the claim to run out, after which the fulfilment sweep
    sends it again. Only a worker killed between the server's acceptance and
    the UPDATE that follows can make a second email."""
    now = timezone.now()
    claimed_until = now + timedelta(seconds=settings.ORDERS_EMAIL_CLAIM_SECONDS)
    claimed = (
        Order.objects.filter(
            pk=order_id, state=Order.State.PAID, emailed_at__isnull=True
        )
        .filter(Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now))
        .update(email_claimed_until=claimed_until)
    )
    if claimed != 1:
        return False
    try:
        order = Order.objects.select_related("event").get(pk=order_id)
        tickets = list(Ticket.objects.filter(order_id=order_id).select_related("line"))
        context = {
            "order": order,
            "tickets": tickets,
            "site_url": site_url,
            "attach_pdf": settings.ORDERS_EMAIL_ATTACH_PDF,
        }
        message = EmailMultiAlternatives(
            subject=f"Your tickets for {order.event.name} (order {order.pk})",
            body=render_to_string("orders/email/tickets.txt", context),
            to=[order.buyer_email],
        )
        message.attach_alternative(
            render_to_string("orders/email/tickets.html", context), "text/html"
        )
        if settings.ORDERS_EMAIL_ATTACH_PDF and order.pdf:
            with default_storage.open(order.pdf.name, "rb") as handle:
                message.attach(
                    f"tickets-order-{order.pk}.pdf", handle.read(), "application/pdf"
                )
        message.send()
    except Exception:
        Order.objects.filter(pk=order_id).update(email_claimed_until=None)
        raise
    Order.objects.filter(pk=order_id).update(
        emailed_at=timezone.now(), email_claimed_until=None
    )
    return True


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
