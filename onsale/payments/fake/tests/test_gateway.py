"""The fake payment provider (FakeGateway): test cards, idempotency keys,
refunds, faults, its charge ledger (charges_list)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from onsale.payments import (
    ChargeLedger,
    PaymentDeclined,
    PaymentRequestInvalid,
    PaymentSource,
    PaymentTransientError,
)
from onsale.payments.fake.cards import (
    DECLINE_CARD,
    INSUFFICIENT_FUNDS_CARD,
    SUCCESS_CARD,
    TIMEOUT_CARD,
)
from onsale.payments.fake.models import (
    FakeProviderCharge,
    FakeProviderEvent,
    FakeProviderRefund,
)
from onsale.testutils.payments import card, gateway


@pytest.mark.django_db
def test_success_card_charges_once_per_idempotency_key():
    fake = gateway()
    first = fake.charge(
        idempotency_key="order-1",
        amount=Decimal("80.50"),
        currency="eur",
        source=card(SUCCESS_CARD),
    )
    again = fake.charge(
        idempotency_key="order-1",
        amount=Decimal("80.50"),
        currency="EUR",
        source=card(SUCCESS_CARD),
    )
    assert first == again
    assert (first.status, first.amount, first.currency) == (
        "succeeded",
        Decimal("80.50"),
        "EUR",
    )
    row = FakeProviderCharge.objects.get()
    assert (row.card_last4, row.amount_refunded) == ("4242", Decimal("0"))
    assert list(FakeProviderEvent.objects.values_list("type", flat=True)) == [
        "charge.succeeded"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "code"),
    [
        (DECLINE_CARD, "card_declined"),
        (INSUFFICIENT_FUNDS_CARD, "insufficient_funds"),
        ("4111111111111111", "invalid_number"),
    ],
)
def test_declining_cards_decline_and_replay_the_decline(number, code):
    fake = gateway()
    for _ in range(2):
        with pytest.raises(PaymentDeclined) as raised:
            fake.charge(
                idempotency_key="order-2",
                amount=Decimal("10"),
                currency="EUR",
                source=card(number),
            )
        assert raised.value.code == code
    row = FakeProviderCharge.objects.get()
    assert (row.status, row.failure_code) == ("failed", code)


@pytest.mark.django_db
def test_timeout_card_charges_but_the_answer_is_lost_every_time():
    fake = gateway()
    for _ in range(3):
        with pytest.raises(PaymentTransientError):
            fake.charge(
                idempotency_key="order-3",
                amount=Decimal("10"),
                currency="EUR",
                source=card(TIMEOUT_CARD),
            )
    found = fake.charge_find(idempotency_key="order-3")
    assert found is not None and found.succeeded
    assert FakeProviderCharge.objects.count() == 1


@pytest.mark.django_db
def test_latency_beyond_the_callers_timeout_times_out_after_charging():
    # A provider far slower than the caller's timeout, so that giving up at
    # the timeout and waiting out the latency cannot be confused, however
    # busy the machine.
    latency = 30.0
    fake = gateway(latency_seconds=latency)
    started = time.monotonic()
    with pytest.raises(PaymentTransientError):
        fake.charge(
            idempotency_key="order-4",
            amount=Decimal("10"),
            currency="EUR",
            source=card(SUCCESS_CARD),
            timeout=0.05,
        )
    assert time.monotonic() - started < latency / 2
    assert fake.charge_find(idempotency_key="order-4").succeeded
    # the retry (no tight timeout, the provider quick again) gets the
    # original charge
    assert (
        gateway()
        .charge(
            idempotency_key="order-4",
            amount=Decimal("10"),
            currency="EUR",
            source=card(SUCCESS_CARD),
        )
        .id
        == FakeProviderCharge.objects.get().id
    )


@pytest.mark.django_db
def test_same_key_with_another_amount_is_refused():
    fake = gateway()
    fake.charge(
        idempotency_key="order-5",
        amount=Decimal("10"),
        currency="EUR",
        source=card(SUCCESS_CARD),
    )
    with pytest.raises(PaymentRequestInvalid) as raised:
        fake.charge(
            idempotency_key="order-5",
            amount=Decimal("11"),
            currency="EUR",
            source=card(SUCCESS_CARD),
        )
    assert raised.value.code == "idempotency_key_reused"
    assert FakeProviderCharge.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_charges_with_one_key_make_one_charge():
    fake = gateway()

    def attempt(_: int) -> str:
        try:
            return fake.charge(
                idempotency_key="order-6",
                amount=Decimal("10"),
                currency="EUR",
                source=card(SUCCESS_CARD),
            ).id
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = list(pool.map(attempt, range(20)))
    assert len(set(ids)) == 1
    assert FakeProviderCharge.objects.count() == 1


@pytest.mark.django_db
def test_refunds_are_idempotent_and_bounded():
    fake = gateway()
    charge = fake.charge(
        idempotency_key="order-7",
        amount=Decimal("30"),
        currency="EUR",
        source=card(SUCCESS_CARD),
    )
    partial = fake.refund(
        charge_id=charge.id, idempotency_key="r1", amount=Decimal("10")
    )
    assert (
        fake.refund(charge_id=charge.id, idempotency_key="r1", amount=Decimal("10"))
        == partial
    )
    rest = fake.refund(charge_id=charge.id, idempotency_key="r2")
    assert rest.amount == Decimal("20")
    with pytest.raises(PaymentRequestInvalid):
        fake.refund(charge_id=charge.id, idempotency_key="r3")
    assert fake.charge_find(idempotency_key="order-7").fully_refunded
    assert FakeProviderRefund.objects.count() == 2
    failed_key = "order-8"
    with pytest.raises(PaymentDeclined):
        fake.charge(
            idempotency_key=failed_key,
            amount=Decimal("5"),
            currency="EUR",
            source=card(DECLINE_CARD),
        )
    with pytest.raises(PaymentRequestInvalid):
        fake.refund(
            charge_id=FakeProviderCharge.objects.get(idempotency_key=failed_key).id,
            idempotency_key="r4",
        )


@pytest.mark.django_db
def test_fault_injection_times_out_before_or_after_charging():
    import random

    fake = gateway(fault_rate=1.0, rng=random.Random(7))
    outcomes = []
    for number in range(20):
        with pytest.raises(PaymentTransientError):
            fake.charge(
                idempotency_key=f"order-{100 + number}",
                amount=Decimal("1"),
                currency="EUR",
                source=card(SUCCESS_CARD),
            )
        outcomes.append(
            fake.charge_find(idempotency_key=f"order-{100 + number}") is not None
        )
    assert 0 < sum(outcomes) < 20


def test_tokens_name_test_cards_and_never_keep_other_numbers():
    fake = gateway()
    assert fake.tokenize(source=card("4242 4242 4242 4242")) == "tok_4242424242424242"
    assert (
        fake.tokenize(source=PaymentSource(token="tok_4000000000000002"))
        == "tok_4000000000000002"
    )
    assert fake.tokenize(source=card("5555555555554444")) == "tok_unknown_4444"


@pytest.mark.django_db
def test_an_unknown_card_token_is_declined_as_invalid():
    fake = gateway()
    with pytest.raises(PaymentDeclined) as raised:
        fake.charge(
            idempotency_key="order-9",
            amount=Decimal("1"),
            currency="EUR",
            source=PaymentSource(token=fake.tokenize(source=card("5555555555554444"))),
        )
    assert raised.value.code == "invalid_number"


@pytest.mark.django_db
def test_charges_list_lists_every_charge_failed_ones_too():
    fake = gateway()
    assert isinstance(fake, ChargeLedger)
    fake.charge(
        idempotency_key="order-11",
        amount=Decimal("10"),
        currency="EUR",
        source=card(SUCCESS_CARD),
    )
    with pytest.raises(PaymentDeclined):
        fake.charge(
            idempotency_key="order-12",
            amount=Decimal("5"),
            currency="EUR",
            source=card(DECLINE_CARD),
        )
    charges = sorted(fake.charges_list(), key=lambda charge: charge.idempotency_key)
    assert [(c.idempotency_key, c.status) for c in charges] == [
        ("order-11", "succeeded"),
        ("order-12", "failed"),
    ]
