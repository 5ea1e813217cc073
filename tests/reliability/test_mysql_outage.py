"""Drill: MySQL slow or unreachable, through a fault proxy on 127.0.0.1.

The app's database connection is routed through `FaultProxy` (the shared
MariaDB is never stopped): with latency beyond the read timeout a request
fails cleanly with 503 and leaves no hold behind; with MySQL unreachable
/readyz is 503 while the queue, which lives in Redis, keeps working.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.seatselection.exceptions import HoldNotFound
from onsale.seatselection.selectors import hold_get
from onsale.testutils.factories import UserFactory
from onsale.testutils.seats import held_indexes
from onsale.waitingroom.services import admission_session_start
from tests.faults.proxy import FaultProxy
from tests.reliability.conftest import (
    assert_unavailable,
    assert_unavailable_page,
    client_of,
    room_open,
    seat_ids,
)

READ_TIMEOUT = 1


@pytest.fixture
def mysql_proxy(transactional_db: Any) -> Iterator[FaultProxy]:
    """The default connection, reconnected through a fault proxy, with short
    connect/read timeouts so a fault shows within a second."""
    saved = copy.deepcopy(connection.settings_dict)
    proxy = FaultProxy(upstream_port=int(saved.get("PORT") or 3306))
    connection.close()
    connection.settings_dict["HOST"] = "127.0.0.1"
    connection.settings_dict["PORT"] = str(proxy.port)
    options = saved["OPTIONS"]
    # The deployment's timeouts exist (without them a silent MySQL holds a
    # worker until gunicorn kills it); the drill shortens them.
    assert {"connect_timeout", "read_timeout", "write_timeout"} <= set(options)
    connection.settings_dict["OPTIONS"] = {
        **options,
        "connect_timeout": READ_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "write_timeout": READ_TIMEOUT,
    }
    try:
        yield proxy
    finally:
        proxy.close()
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_mysql_down_readyz_503_while_the_queue_keeps_working(
    mysql_proxy: FaultProxy, seated_event: Event, settings: Any
) -> None:
    settings.WAITINGROOM_STATUS_MEMO_MS = 0  # see each join in the status
    event = seated_event
    room_open(event, burst=5, max_active=5)
    fans = UserFactory.create_batch(3)
    assert APIClient().get("/readyz").status_code == 200

    mysql_proxy.down()  # the fault: MySQL unreachable

    ready = APIClient().get("/readyz")
    assert_unavailable(ready)
    assert ready.json()["extra"]["failed"] == ["database"]
    status = APIClient().get(f"/api/v1/events/{event.pk}/queue/status")
    assert status.status_code == 200, status.content
    # Joining is Redis-only once the fan is authenticated (force_authenticate
    # here: a real bearer token or session needs MySQL to load the user).
    for number, fan in enumerate(fans):
        joined = client_of(fan, ip=f"10.2.0.{number}").post(
            f"/api/v1/events/{event.pk}/queue"
        )
        assert joined.status_code == 201, joined.content
        assert joined.json()["number"] == number + 1
        me = client_of(fan).get(f"/api/v1/events/{event.pk}/queue/me")
        assert me.status_code == 200, me.content
        assert me.json()["state"] == "active"
    assert (
        APIClient().get(f"/api/v1/events/{event.pk}/queue/status").json()["issued"] == 3
    )

    mysql_proxy.up()
    # Django runs this at every request boundary; its test client does not.
    close_old_connections()
    assert APIClient().get("/readyz").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_slow_mysql_times_out_with_503_and_leaves_no_hold(
    mysql_proxy: FaultProxy, seated_event: Event
) -> None:
    event = seated_event
    room_open(event)
    fan = UserFactory()
    grant = admission_session_start(event_id=event.pk, user_id=fan.pk)
    client = client_of(fan, token=grant.token)
    seat = seat_ids(event)[0]

    mysql_proxy.latency = READ_TIMEOUT * 2.5  # the fault: seconds of latency
    started = time.monotonic()
    response = client.post(
        f"/api/v1/events/{event.pk}/holds",
        {"seats": [seat]},
        format="json",
    )
    elapsed = time.monotonic() - started

    assert_unavailable(response)
    assert response.json()["extra"] == {"dependency": "database"}
    assert elapsed < 10 * READ_TIMEOUT
    mysql_proxy.latency = 0
    close_old_connections()
    # nothing half-made: no seat held, no hold for the session
    assert held_indexes(event.pk) == set()
    with pytest.raises(HoldNotFound):
        hold_get(event_id=event.pk, user_id=fan.pk, session_id=grant.claims.session_id)


@pytest.mark.django_db(transaction=True)
def test_checkout_on_a_slow_mysql_is_503_and_its_retry_makes_one_order(
    mysql_proxy: FaultProxy, seated_event: Event
) -> None:
    """The checkout times out half-way (MySQL seconds slow): 503, and nothing
    half-made stays: no order, no sale, no charge. The client's retry with the
    same Idempotency-Key, once MySQL is back, makes exactly one paid order."""
    from onsale.orders.ledger_reconcile import fake_ledger_reconcile
    from onsale.orders.models import Order
    from onsale.payments.fake.models import FakeProviderCharge
    from onsale.seatselection.models import SeatSale
    from onsale.testutils.checkout import checkout_body

    event = seated_event
    room_open(event)
    fan = UserFactory()
    grant = admission_session_start(event_id=event.pk, user_id=fan.pk)
    client = client_of(fan, token=grant.token)
    held = client.post(
        f"/api/v1/events/{event.pk}/holds",
        {"seats": [seat_ids(event)[0]]},
        format="json",
    )
    assert held.status_code == 201
    body = checkout_body(held.json()["hold_id"])

    mysql_proxy.latency = READ_TIMEOUT * 2.5  # the fault
    first = client.post(
        "/api/v1/checkout", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me"
    )
    mysql_proxy.latency = 0
    close_old_connections()

    assert_unavailable(first)
    assert Order.objects.count() == 0
    assert SeatSale.objects.count() == 0
    assert FakeProviderCharge.objects.count() == 0

    retry = client.post(
        "/api/v1/checkout", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me"
    )
    assert retry.status_code == 201, retry.content
    assert Order.objects.filter(state=Order.State.PAID).count() == 1
    assert SeatSale.objects.count() == 1
    assert FakeProviderCharge.objects.count() == 1
    assert fake_ledger_reconcile() == []


@pytest.mark.django_db(transaction=True)
def test_fan_pages_with_mysql_unreachable_are_the_503_page_never_a_500(
    mysql_proxy: FaultProxy, seated_event: Event
) -> None:
    event = seated_event
    room_open(event)
    queue_page = f"/events/{event.pk}/queue"
    fan = Client()
    fan.force_login(UserFactory())
    assert fan.get(queue_page).status_code == 200

    mysql_proxy.down()  # the fault: MySQL unreachable

    assert_unavailable_page(fan.get(queue_page), place_kept=True)
    assert_unavailable_page(Client().get(queue_page), place_kept=True)
    for page in (
        f"/events/{event.pk}/seats",
        f"/checkout/{event.pk}/1/",
        "/orders/",
    ):
        assert_unavailable_page(fan.get(page))

    mysql_proxy.up()
    close_old_connections()
    assert fan.get(queue_page).status_code == 200
