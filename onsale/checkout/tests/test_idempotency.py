"""Idempotency-Key on POST /checkout: replays, conflicts, concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from onsale.checkout import idempotency
from onsale.checkout.exceptions import (
    IdempotencyKeyInvalid,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
)
from onsale.checkout.models import IdempotencyRecord
from onsale.orders.models import Order
from onsale.payments.fake.cards import DECLINE_CARD
from onsale.payments.fake.models import FakeProviderCharge
from onsale.testutils.checkout import Shopper, assert_error, checkout_body
from onsale.testutils.factories import UserFactory
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_key_is_required_and_validated(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    missing = shopper.client.post(
        "/api/v1/checkout",
        checkout_body(hold.hold_id),
        format="json",
        HTTP_X_ACCESS_TOKEN=shopper.token,
    )
    assert_error(missing, 422, "idempotency_key_required")
    assert_error(
        shopper.checkout(hold.hold_id, key="x" * 256), 422, "idempotency_key_invalid"
    )
    assert_error(
        shopper.checkout(hold.hold_id, key="has space"), 422, "idempotency_key_invalid"
    )
    assert Order.objects.count() == 0 and IdempotencyRecord.objects.count() == 0


def test_a_replay_returns_the_identical_response_and_charges_once(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:2])

    first = shopper.checkout(hold.hold_id, key="key-1")
    again = shopper.checkout(hold.hold_id, key="key-1")
    third = shopper.checkout(hold.hold_id, key="key-1")

    assert first.status_code == again.status_code == third.status_code == 201
    assert first.json() == again.json() == third.json()
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert FakeProviderCharge.objects.count() == 1


def test_a_declined_answer_is_replayed_too(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    first = shopper.checkout(hold.hold_id, key="key-d", card=DECLINE_CARD)
    again = shopper.checkout(hold.hold_id, key="key-d", card=DECLINE_CARD)
    assert_error(first, 422, "payment_declined")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert Order.objects.count() == 1 and FakeProviderCharge.objects.count() == 1


def test_the_same_key_with_another_body_is_409(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:2])
    assert shopper.checkout(hold.hold_id, key="key-2").status_code == 201
    other_body = checkout_body(hold.hold_id)
    other_body["buyer"]["name"] = "Somebody Else"
    response = shopper.checkout(hold.hold_id, key="key-2", body=other_body)
    assert_error(response, 409, "idempotency_key_reused")
    assert Order.objects.count() == 1


def test_keys_are_scoped_per_user(event):
    one, two = Shopper(event), Shopper(event)
    first_hold = one.hold(seat_ids(event)[:1])
    second_hold = two.hold(seat_ids(event)[1:2])
    assert one.checkout(first_hold.hold_id, key="shared").status_code == 201
    response = two.checkout(second_hold.hold_id, key="shared")
    assert response.status_code == 201
    assert Order.objects.filter(user=two.user).count() == 1


def test_a_request_refused_before_any_order_can_be_retried_with_its_key(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    assert_error(
        shopper.checkout(hold.hold_id, key="key-3", token=""),
        401,
        "access_token_required",
    )
    assert IdempotencyRecord.objects.count() == 0
    assert shopper.checkout(hold.hold_id, key="key-3").status_code == 201


def test_concurrent_requests_with_one_key_run_once(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:2])
    barrier = threading.Barrier(12)

    def attempt(_: int):
        client = APIClient()
        client.force_authenticate(shopper.user)
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/checkout",
                checkout_body(hold.hold_id),
                format="json",
                HTTP_IDEMPOTENCY_KEY="same-key",
                HTTP_X_ACCESS_TOKEN=shopper.token,
            )
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(attempt, range(12)))

    created = [body for status, body in outcomes if status == 201]
    busy = [body for status, body in outcomes if status == 409]
    assert len(created) + len(busy) == 12
    assert created and all(body == created[0] for body in created)
    assert all(body["code"] == "idempotency_request_in_progress" for body in busy)
    assert Order.objects.count() == 1
    assert FakeProviderCharge.objects.count() == 1


def test_a_request_still_running_gets_409_with_retry_after(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    body = checkout_body(hold.hold_id)
    IdempotencyRecord.objects.create(
        user=shopper.user,
        key="busy",
        request_hash=idempotency.idempotency_request_hash(payload=body),
        locked_until=timezone.now() + timedelta(minutes=1),
        expires_at=timezone.now() + timedelta(hours=24),
    )
    from django.test import override_settings

    with override_settings(CHECKOUT_IDEMPOTENCY_WAIT_SECONDS=0.1):
        response = shopper.checkout(hold.hold_id, key="busy", body=body)
    assert_error(response, 409, "idempotency_request_in_progress")
    assert response["Retry-After"] == "1"
    assert Order.objects.count() == 0


def test_a_dead_request_is_taken_over_and_resumes_its_order(event):
    # given a request that created its order and died before answering
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    body = checkout_body(hold.hold_id)
    first = shopper.checkout(hold.hold_id, key="dead", body=body)
    record = IdempotencyRecord.objects.get()
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.IN_PROGRESS,
        response_status=None,
        response_body=None,
        locked_until=timezone.now() - timedelta(seconds=1),
    )
    # when the client retries
    again = shopper.checkout(hold.hold_id, key="dead", body=body)
    # then it gets the order, not a second one
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1 and FakeProviderCharge.objects.count() == 1


def test_expired_records_do_not_replay_and_are_purged(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    assert shopper.checkout(hold.hold_id, key="old").status_code == 201
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # after 24 h the key is new again: no replay; the request runs (and is
    # refused: the shopping session ended with the first checkout)
    assert_error(shopper.checkout(hold.hold_id, key="old"), 401, "access_session_ended")
    assert IdempotencyRecord.objects.count() == 0
    other = Shopper(event)
    assert (
        other.checkout(other.hold(seat_ids(event)[1:2]).hold_id, key="k").status_code
        == 201
    )
    assert idempotency.idempotency_purge_expired() == 0
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency.idempotency_purge_expired() == 1
    assert IdempotencyRecord.objects.count() == 0


def test_idempotent_call_stores_the_answer_and_replays_it(event):
    # given a first request that answers 201
    user = Shopper(event).user
    calls = []

    def run(claim):
        calls.append(claim)
        return idempotency.IdempotentAnswer(status=201, body={"id": 1})

    first = idempotency.idempotent_call(
        user=user, key="call-1", payload={"a": 1}, run=run
    )
    # when the same key and body come again
    again = idempotency.idempotent_call(
        user=user, key="call-1", payload={"a": 1}, run=run
    )

    # then the second is a replay of the first, and `run` ran once
    assert (first.status, first.body, first.replayed) == (201, {"id": 1}, False)
    assert (again.status, again.body, again.replayed) == (201, {"id": 1}, True)
    assert len(calls) == 1


def test_idempotent_call_releases_the_key_when_the_request_fails(event):
    # given a request that fails before any order exists
    user = Shopper(event).user

    def fail(claim):
        raise RuntimeError("refused before an order")

    with pytest.raises(RuntimeError):
        idempotency.idempotent_call(user=user, key="call-2", payload={}, run=fail)

    # then the key is forgotten (idempotency_release), so a retry runs afresh
    assert IdempotencyRecord.objects.count() == 0
    answer = idempotency.idempotent_call(
        user=user,
        key="call-2",
        payload={},
        run=lambda claim: idempotency.IdempotentAnswer(status=202, body={}),
    )
    assert (answer.status, answer.replayed) == (202, False)


def test_checkout_submit_or_resume_needs_an_access_token(event):
    from onsale.checkout import services
    from onsale.orders.exceptions import AccessTokenMissing
    from onsale.payments import PaymentSource

    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    with pytest.raises(AccessTokenMissing):
        services.checkout_submit_or_resume(
            user=shopper.user,
            access_token="",
            event_id=event.pk,
            hold_id=hold.hold_id,
            buyer=services.Buyer(name="Ada Fan", email="ada@example.test"),
            source=PaymentSource(card_number="4242424242424242"),
            idempotency_record_id=0,
            resume_order_id=None,
        )
    assert Order.objects.count() == 0


def test_idempotency_key_validate_accepts_visible_ascii_only():
    # when / then: a visible ASCII key up to 255 characters is returned as sent
    assert idempotency.idempotency_key_validate(key="abc-123_~!") == "abc-123_~!"
    assert idempotency.idempotency_key_validate(key="k" * 255) == "k" * 255
    # and anything else is refused
    for missing in (None, ""):
        with pytest.raises(IdempotencyKeyRequired):
            idempotency.idempotency_key_validate(key=missing)
    for invalid in ("k" * 256, "with space", "caf\u00e9"):
        with pytest.raises(IdempotencyKeyInvalid):
            idempotency.idempotency_key_validate(key=invalid)


def test_idempotency_begin_claims_then_waits_then_replays(db):
    # given a fan's first request with a key
    user = UserFactory()
    claim = idempotency.idempotency_begin(user=user, key="k1", request_hash="h1")
    assert not claim.is_replay and claim.resume_order_id is None
    assert claim.record is not None

    # when a second request with the same key comes while the first runs:
    # it is told to retry, and nothing changed
    with pytest.raises(IdempotencyRequestInProgress):
        idempotency.idempotency_begin(
            user=user, key="k1", request_hash="h1", wait_seconds=0
        )
    # a different body under the same key is refused
    with pytest.raises(IdempotencyKeyReused):
        idempotency.idempotency_begin(
            user=user, key="k1", request_hash="h2", wait_seconds=0
        )
    assert IdempotencyRecord.objects.filter(user=user).count() == 1

    # when the first completes, a retry replays its answer
    idempotency.idempotency_complete(
        record=claim.record, status=201, body={"order_id": 7}
    )
    replay = idempotency.idempotency_begin(user=user, key="k1", request_hash="h1")
    assert replay.is_replay
    assert (replay.replay_status, replay.replay_body) == (201, {"order_id": 7})


def test_idempotency_begin_takes_over_a_dead_requests_order(event):
    # given a record whose request created an order, then stopped renewing
    _, order, _ = _paid_order(event)
    user = order.user
    claim = idempotency.idempotency_begin(user=user, key="k2", request_hash="h")
    assert claim.record is not None
    idempotency.idempotency_order_attach(record_id=claim.record.pk, order_id=order.pk)
    IdempotencyRecord.objects.filter(pk=claim.record.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )

    # when a retry comes
    retry = idempotency.idempotency_begin(user=user, key="k2", request_hash="h")

    # then it owns the same record and resumes that order
    assert retry.record is not None and retry.record.pk == claim.record.pk
    assert retry.resume_order_id == order.pk
    assert IdempotencyRecord.objects.get(pk=claim.record.pk).order_id == order.pk


def test_idempotency_complete_stores_the_answer(db):
    # given a claimed key
    claim = idempotency.idempotency_begin(
        user=UserFactory(), key="k3", request_hash="h"
    )
    assert claim.record is not None

    # when
    idempotency.idempotency_complete(record=claim.record, status=422, body={"e": 1})

    # then
    stored = IdempotencyRecord.objects.get(pk=claim.record.pk)
    assert stored.state == IdempotencyRecord.State.COMPLETED
    assert (stored.response_status, stored.response_body) == (422, {"e": 1})


def test_idempotency_abandon_forgets_in_progress_keys_only(db):
    # given one key in progress and one completed
    user = UserFactory()
    running = idempotency.idempotency_begin(user=user, key="run", request_hash="h")
    done = idempotency.idempotency_begin(user=user, key="done", request_hash="h")
    assert running.record is not None and done.record is not None
    idempotency.idempotency_complete(record=done.record, status=201, body={})

    # when both are abandoned
    idempotency.idempotency_abandon(record=running.record)
    idempotency.idempotency_abandon(record=done.record)

    # then only the completed one is kept, and the other key can start afresh
    assert list(
        IdempotencyRecord.objects.filter(user=user).values_list("key", flat=True)
    ) == ["done"]
    again = idempotency.idempotency_begin(user=user, key="run", request_hash="h2")
    assert again.record is not None


def _paid_order(event):
    """A fan's paid order (its own idempotency record is left aside)."""
    shopper = Shopper(event)
    response = shopper.checkout(shopper.hold(seat_ids(event)[:1]).hold_id)
    return shopper, Order.objects.get(user=shopper.user), response
