"""Reconciling the payment provider's ledger with the orders and seat sales.

The charges are read through the gateway (`ChargeLedger`: the fake provider
lists its ledger), so orders never imports a provider's tables.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured

from onsale.orders import inventory
from onsale.orders.models import Order
from onsale.payments import Charge, ChargeLedger, payment_gateway

_CLOSED = {
    Order.State.FAILED,
    Order.State.EXPIRED,
    Order.State.CANCELLED,
    Order.State.REFUNDED,
}


def fake_ledger_reconcile(*, allow_pending: bool = False) -> list[str]:
    """Compare the fake provider's ledger with the orders table and the seat
    sales; return one line per mismatch (empty: consistent).

    The rules the saga promises: every succeeded charge belongs to an order
    (its idempotency key is the order's payment key); a paid order has exactly
    one succeeded, unrefunded charge of its total and owns a seat sale for
    each of its seats; a closed order (failed, expired, cancelled, refunded)
    owns no seat sale and any charge it has is fully refunded; no order is
    left pending unless `allow_pending`.

    Needs a gateway that lists its charges (the fake); ImproperlyConfigured
    with any other.
    """
    problems: list[str] = []
    orders = {order.pk: order for order in Order.objects.all()}
    seat_lines: Counter[int] = Counter()
    for order_id, seat_id in Order.objects.filter(
        lines__seat__isnull=False
    ).values_list("pk", "lines__seat_id"):
        if seat_id is not None:
            seat_lines[order_id] += 1
    sales = inventory.seat_sales_per_order()
    charges_by_order: dict[int, list[Charge]] = {}
    for charge in _ledger().charges_list():
        key = charge.idempotency_key
        charged = (
            int(key[len("order-") :])
            if key.startswith("order-") and key[6:].isdigit()
            else None
        )
        if charged is None or charged not in orders:
            if charge.succeeded:
                problems.append(f"charge {charge.id} ({key}) has no order")
            continue
        if charge.succeeded:
            charges_by_order.setdefault(charged, []).append(charge)
    for order_id, order in orders.items():
        charges = charges_by_order.get(order_id, [])
        sold_here = sales.get(str(order_id), 0)
        if order.state == Order.State.PAID:
            live = [c for c in charges if Decimal(c.amount_refunded) == 0]
            if len(charges) != 1 or len(live) != 1:
                problems.append(
                    f"paid order {order_id} has {len(charges)} charges, {len(live)} unrefunded"
                )
            elif (
                Decimal(live[0].amount) != order.total or live[0].id != order.charge_id
            ):
                problems.append(f"paid order {order_id} charge does not match")
            if sold_here != seat_lines[order_id]:
                problems.append(
                    f"paid order {order_id} owns {sold_here} seat sales for {seat_lines[order_id]} seats"
                )
        elif order.state in _CLOSED:
            for charge in charges:
                if Decimal(charge.amount_refunded) != Decimal(charge.amount):
                    problems.append(
                        f"{order.state} order {order_id} has charge {charge.id} not refunded"
                    )
            if sold_here:
                problems.append(
                    f"{order.state} order {order_id} still owns {sold_here} seat sales"
                )
        elif not allow_pending:
            problems.append(f"order {order_id} is still pending")
    known = {str(order_id) for order_id in orders}
    for reference, count in sales.items():
        if reference not in known:
            problems.append(f"{count} seat sales of unknown order {reference!r}")
    return problems


def _ledger() -> ChargeLedger:
    gateway = payment_gateway()
    if not isinstance(gateway, ChargeLedger):
        raise ImproperlyConfigured(
            f"The {gateway.name!r} payment gateway cannot list its charges."
        )
    return gateway
