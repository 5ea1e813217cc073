"""Fulfilment: tickets, the ticket PDF (order_pdf_store), the email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from onsale.orders import fulfilment
from onsale.orders.models import Order, OrderEmail
from onsale.orders.tests.helpers import buy
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_render_killed_before_recording_its_pdf_leaves_no_file(event):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from onsale.orders.fulfilment import order_pdf_store

    _, order, _ = buy(event, seat_ids(event)[:1])
    order.refresh_from_db()
    first = order.pdf.name
    # A worker killed between storing its file and recording it: the file is
    # there, the order names none.
    Order.objects.filter(pk=order.pk).update(pdf="")
    other = default_storage.save(
        f"orders/{order.pk}/tickets-deadbeefdeadbeef.pdf", ContentFile(b"%PDF")
    )

    name = order_pdf_store(order_id=order.pk)

    order.refresh_from_db()
    assert order.pdf.name == name not in (first, other)
    _, files = default_storage.listdir(f"orders/{order.pk}")
    assert files == [name.rsplit("/", 1)[1]]
    default_storage.delete(name)


def test_order_fulfilment_run_twice_issues_one_set_of_tickets(event):
    # given a paid order (its fulfilment already ran once)
    _, order, response = buy(event, seat_ids(event)[:2])
    assert response.status_code == 201
    codes = set(order.tickets.values_list("code", flat=True))

    # when fulfilment runs again (a redelivered task)
    fulfilment.order_fulfilment_run(order_id=order.pk)

    # then the tickets are the same two
    assert set(order.tickets.values_list("code", flat=True)) == codes
    assert len(codes) == 2


def test_order_tickets_email_send_sends_once(event, mailoutbox):
    # given a paid order whose tickets were emailed
    _, order, _ = buy(event, seat_ids(event)[:1])
    assert len(mailoutbox) == 1

    # when the email step runs again, it sends nothing
    assert fulfilment.order_tickets_email_send(order_id=order.pk) is False
    assert len(mailoutbox) == 1


def test_orders_unfulfilled_ids_lists_paid_orders_not_finished_in_time(event):
    # given three paid orders: one fulfilled, one without its email, one
    # without tickets; all paid a minute ago
    _, done, _ = buy(event, seat_ids(event)[:1])
    _, unmailed, _ = buy(event, seat_ids(event)[1:2])
    _, unticketed, _ = buy(event, seat_ids(event)[2:3])
    a_minute_ago = timezone.now() - timedelta(minutes=1)
    Order.objects.update(paid_at=a_minute_ago)
    Order.objects.filter(pk=unmailed.pk).update(emailed_at=None)
    Order.objects.filter(pk=unticketed.pk).update(
        tickets_issued_at=None, paid_at=a_minute_ago - timedelta(seconds=1)
    )

    # when / then: the unfinished ones, oldest payment first, up to the limit
    assert fulfilment.orders_unfulfilled_ids(older_than_seconds=30) == [
        unticketed.pk,
        unmailed.pk,
    ]
    assert fulfilment.orders_unfulfilled_ids(older_than_seconds=30, limit=1) == [
        unticketed.pk
    ]
    # and none paid less than `older_than_seconds` ago
    assert fulfilment.orders_unfulfilled_ids(older_than_seconds=3600) == []
    assert done.pk not in fulfilment.orders_unfulfilled_ids(older_than_seconds=30)


def test_the_ticket_email_links_to_the_order_page_absolutely(
    event, mailoutbox, settings
):
    # given the site's public address
    settings.ONSALE_PUBLIC_URL = "https://tickets.example.com"

    # when a fan buys a ticket
    _, order, _ = buy(event, seat_ids(event)[:1])

    # then both parts of the email link to https://host/orders/<id>/
    [mail] = mailoutbox
    url = f"https://tickets.example.com/orders/{order.pk}/"
    assert url in mail.body
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html"
    assert f'href="{url}"' in html
    assert 'href="/' not in html


def test_order_url_is_absolute(event, settings):
    settings.ONSALE_PUBLIC_URL = "https://tickets.example.com/shop"
    _, order, _ = buy(event, seat_ids(event)[:1])

    assert (
        fulfilment.order_url(order=order)
        == f"https://tickets.example.com/shop/orders/{order.pk}/"
    )


def _cancel(order):
    from onsale.orders import refunds

    return refunds.order_cancel(order=Order.objects.get(pk=order.pk))


def test_a_cancelled_order_emails_its_cancellation_and_its_refund_once(
    event, mailoutbox, settings
):
    # given a paid order whose tickets were emailed
    settings.ONSALE_PUBLIC_URL = "https://tickets.example.com"
    _, order, _ = buy(event, seat_ids(event)[:2])
    assert len(mailoutbox) == 1

    # when the fan cancels it
    _cancel(order)

    # then one cancellation and one refund email follow, plain text and HTML,
    # with absolute links to the order
    assert len(mailoutbox) == 3
    cancelled, refunded = mailoutbox[1:]
    url = f"https://tickets.example.com/orders/{order.pk}/"
    assert cancelled.subject == (f"Your order {order.pk} for {event.name} is cancelled")
    assert refunded.subject == f"Your refund for order {order.pk} ({event.name})"
    for mail in (cancelled, refunded):
        assert mail.to == ["ada@example.test"]
        assert url in mail.body
        [(html, mimetype)] = mail.alternatives
        assert mimetype == "text/html" and f'href="{url}"' in html
    order.refresh_from_db()
    assert f"{order.refunded_amount} {order.currency}" in refunded.body
    assert set(OrderEmail.objects.values_list("kind", flat=True)) == {
        "cancelled",
        "refunded",
    }
    assert OrderEmail.objects.filter(sent_at__isnull=True).count() == 0

    # and running the email tasks again (a redelivery) sends nothing more
    from onsale.orders import tasks

    tasks.order_notice_email_send.delay(order.pk, "cancelled")
    tasks.order_notice_email_send.delay(order.pk, "refunded")
    assert (
        fulfilment.order_notice_email_send(order_id=order.pk, kind="refunded") is False
    )
    assert len(mailoutbox) == 3


def test_a_notice_email_whose_send_fails_is_retried_and_sent_once(
    event, mailoutbox, monkeypatch
):
    import smtplib

    from django.core.mail import EmailMultiAlternatives

    # given a paid order, and a mail server that drops the next message
    _, order, _ = buy(event, seat_ids(event)[:1])
    send = EmailMultiAlternatives.send
    failures = []

    def flaky(self, *args, **kwargs):
        if not failures:
            failures.append(self.subject)
            raise smtplib.SMTPServerDisconnected("smtp went away")
        return send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", flaky)

    # when the order is cancelled (the cancellation email fails once, the
    # task retries)
    _cancel(order)

    # then each email went out exactly once
    assert failures == [f"Your order {order.pk} for {event.name} is cancelled"]
    subjects = [mail.subject for mail in mailoutbox[1:]]
    assert sorted(subjects) == sorted(
        [
            f"Your order {order.pk} for {event.name} is cancelled",
            f"Your refund for order {order.pk} ({event.name})",
        ]
    )


def test_a_notice_email_claimed_by_a_live_worker_is_not_sent_again(event, mailoutbox):
    # given an owed cancellation email that another worker is sending now
    _, order, _ = buy(event, seat_ids(event)[:1])
    OrderEmail.objects.create(
        order=order,
        kind="cancelled",
        claimed_until=timezone.now() + timedelta(minutes=5),
    )

    # when this worker tries, it sends nothing
    assert (
        fulfilment.order_notice_email_send(order_id=order.pk, kind="cancelled") is False
    )
    assert len(mailoutbox) == 1

    # and once the claim ran out (that worker died), the sweep sends it once
    OrderEmail.objects.update(
        claimed_until=timezone.now() - timedelta(seconds=1),
        created_at=timezone.now() - timedelta(minutes=2),
    )
    from onsale.orders import tasks

    tasks.orders_fulfil_sweep.delay()
    tasks.orders_fulfil_sweep.delay()
    assert [mail.subject for mail in mailoutbox[1:]] == [
        f"Your order {order.pk} for {event.name} is cancelled"
    ]


def test_a_refund_at_the_provider_emails_the_buyer_once(event, mailoutbox):
    from onsale.orders.refunds import order_refunded_by_provider

    _, order, _ = buy(event, seat_ids(event)[:1])
    order.refresh_from_db()

    for _ in range(2):  # the provider reports it twice
        order_refunded_by_provider(
            charge_id=order.charge_id, amount_refunded=order.total, amount=order.total
        )

    assert [mail.subject for mail in mailoutbox[1:]] == [
        f"Your refund for order {order.pk} ({event.name})"
    ]


def _buy_in(event, language: str | None):
    """A fan checks out one seat with their browser asking for `language`
    (no Accept-Language when None); returns the order."""
    from onsale.testutils.checkout import Shopper, checkout_body

    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-" + str(hold.hold_id)}
    headers["HTTP_X_ACCESS_TOKEN"] = shopper.token
    if language:
        headers["HTTP_ACCEPT_LANGUAGE"] = language
    response = shopper.client.post(
        "/api/v1/checkout", checkout_body(hold.hold_id), format="json", **headers
    )
    assert response.status_code == 201
    return Order.objects.get(user=shopper.user)


def test_a_german_order_gets_its_emails_in_german(event, mailoutbox):
    # given a fan who checked out with a German browser
    order = _buy_in(event, "de-AT,de;q=0.9")

    # then the order keeps the language and the ticket email is German,
    # with the German money and date formats, though a worker sent it
    assert order.language == "de"
    [tickets] = mailoutbox
    assert tickets.subject == f"Ihre Tickets für {event.name} (Bestellung {order.pk})"
    total = f"{order.total:.2f}".replace(".", ",")
    assert f"Bezahlt insgesamt: {total} {order.currency}" in tickets.body
    assert "vielen Dank für Ihre Bestellung" in tickets.body
    assert "Total paid" not in tickets.body
    [(html, _mimetype)] = tickets.alternatives
    assert '<html lang="de">' in html and "Ticketcode" in html

    # and so are its cancellation and refund emails
    _cancel(order)
    cancelled, refunded = mailoutbox[1:]
    assert (
        cancelled.subject
        == f"Ihre Bestellung {order.pk} für {event.name} ist storniert"
    )
    assert "ist wie gewünscht storniert" in cancelled.body
    assert (
        refunded.subject == f"Ihre Erstattung für Bestellung {order.pk} ({event.name})"
    )
    assert f"wir haben {total} {order.currency}" in refunded.body


def test_an_order_without_a_language_gets_english_emails(event, mailoutbox):
    # given a fan whose browser names no language
    order = _buy_in(event, None)

    # then the ticket email is English
    assert order.language == "en"
    [tickets] = mailoutbox
    assert tickets.subject == f"Your tickets for {event.name} (order {order.pk})"
    assert f"Total paid: {order.total:,.2f} {order.currency}" in tickets.body
    [(html, _mimetype)] = tickets.alternatives
    assert '<html lang="en">' in html


def test_an_order_placed_before_languages_were_kept_is_emailed_in_english(
    event, mailoutbox
):
    # given a German order whose language is unknown (placed before it was kept)
    order = _buy_in(event, "de")
    Order.objects.filter(pk=order.pk).update(language="")

    # when its cancellation is emailed
    _cancel(order)

    # then it is in the default language
    assert (
        mailoutbox[1].subject == f"Your order {order.pk} for {event.name} is cancelled"
    )
