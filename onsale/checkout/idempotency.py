"""Idempotency-Key handling for POST /checkout, kept in MySQL.

A client sends `Idempotency-Key` with each checkout and the same key when it
retries. The first request with a (user, key) inserts an `IdempotencyRecord`
(UNIQUE (user, key)) and runs; its response is stored and replayed, status
and body, to every later request with that key and the same body for
`CHECKOUT_IDEMPOTENCY_TTL_HOURS`. The same key with a different body is
`IdempotencyKeyReused`. A request arriving while the first still runs waits up
to `CHECKOUT_IDEMPOTENCY_WAIT_SECONDS` for its response, then gets
`IdempotencyRequestInProgress` (409 with Retry-After).

Only requests that got as far as creating an order store their response:
one refused earlier (no access token, hold gone, seat taken) is abandoned, so
the client may fix the cause and retry with the same key, as Stripe does.

`idempotent_call` runs the whole protocol around one request (begin, replay,
complete, release); the view only validates, calls it and renders.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from onsale.checkout.exceptions import (
    IdempotencyKeyInvalid,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
)
from onsale.checkout.models import IdempotencyRecord
from onsale.platform.exceptions import DomainError
from onsale.usermgmt.models import User

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Set on a response that replays the stored first answer.
REPLAYED_HEADER = "Idempotent-Replayed"
# How long a request may own a key before another may take it over (the
# owner died). Longer than any checkout request can run.
_LEASE = timedelta(seconds=120)
_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class IdempotencyClaim:
    """The outcome of `idempotency_begin`: either this request owns `record`
    and must run (then complete or abandon it), or it must answer with the
    stored `replay_status` / `replay_body`. `resume_order_id` is set when the
    record was taken over from a request that died after creating its order."""

    record: IdempotencyRecord | None = None
    replay_status: int | None = None
    replay_body: Any = None
    resume_order_id: int | None = None

    @property
    def is_replay(self) -> bool:
        return self.record is None


@dataclass(frozen=True)
class IdempotentAnswer:
    """What a request protected by an Idempotency-Key answers: `status` and
    `body` as stored and replayed. `error` is the domain error to raise once
    its body is stored (a declined payment answers 422 every time: the first
    time through the exception handler, later as the replay of that body).
    `replayed` is set when the answer is a replay of the first one."""

    status: int | None
    body: Any
    error: DomainError | None = None
    replayed: bool = False


def idempotency_key_validate(*, key: str | None) -> str:
    """The key as sent, if it is 1-255 visible ASCII characters."""
    if key is None or key == "":
        raise IdempotencyKeyRequired()
    if len(key) > 255 or not all(33 <= ord(ch) <= 126 for ch in key):
        raise IdempotencyKeyInvalid()
    return key


def idempotency_request_hash(*, payload: Any) -> str:
    """A keyed hash of the canonical JSON body. Keyed (HMAC with the secret
    key) because the body holds payment details: the stored hash must not let
    anyone test guesses of them."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(
        settings.SECRET_KEY.encode(), canonical.encode(), hashlib.sha256
    ).hexdigest()


def idempotency_begin(
    *, user: User, key: str, request_hash: str, wait_seconds: float | None = None
) -> IdempotencyClaim:
    """Claim (user, key) for this request, or say what to replay.

    Edge cases: an expired record is deleted and the key starts afresh; a
    record whose owner stopped renewing (`locked_until` passed) is taken over
    by one request (conditional UPDATE, row count checked); a record abandoned
    while we waited lets us claim it on the next round.
    """
    wait = (
        settings.CHECKOUT_IDEMPOTENCY_WAIT_SECONDS
        if wait_seconds is None
        else wait_seconds
    )
    deadline = time.monotonic() + wait
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    request_hash=request_hash,
                    locked_until=now + _LEASE,
                    created_at=now,
                    expires_at=now
                    + timedelta(hours=settings.CHECKOUT_IDEMPOTENCY_TTL_HOURS),
                )
            return IdempotencyClaim(record=record)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # abandoned between our insert and our read: try again
        if existing.expires_at <= now:
            IdempotencyRecord.objects.filter(
                pk=existing.pk, expires_at__lte=now
            ).delete()
            continue
        if not hmac.compare_digest(existing.request_hash, request_hash):
            raise IdempotencyKeyReused()
        if existing.state == IdempotencyRecord.State.COMPLETED:
            return IdempotencyClaim(
                replay_status=existing.response_status,
                replay_body=existing.response_body,
            )
        if existing.locked_until <= now:
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk,
                state=IdempotencyRecord.State.IN_PROGRESS,
                locked_until=existing.locked_until,
            ).update(locked_until=now + _LEASE)
            if taken == 1:
                existing.locked_until = now + _LEASE
                return IdempotencyClaim(
                    record=existing, resume_order_id=existing.order_id
                )
            continue
        if time.monotonic() >= deadline:
            raise IdempotencyRequestInProgress(retry_after=1)
        time.sleep(_POLL_SECONDS)


def idempotency_order_attach(*, record_id: int, order_id: int) -> None:
    """Tie the record to the order its request created. Called inside the
    transaction that creates the order, so either both exist or neither."""
    IdempotencyRecord.objects.filter(pk=record_id).update(order_id=order_id)


def idempotency_complete(
    *, record: IdempotencyRecord, status: int | None, body: Any
) -> None:
    """Store the response to replay."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.COMPLETED,
        response_status=status,
        response_body=body,
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """The request failed before answering. Without an order, forget the key
    (the client may fix the cause and retry with it); with one, free the
    lease so a retry resumes that order at once."""
    order_id = (
        IdempotencyRecord.objects.filter(pk=record.pk)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        idempotency_abandon(record=record)
    else:
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            locked_until=timezone.now()
        )


def idempotent_call(
    *,
    user: User,
    key: str,
    payload: Any,
    run: Callable[[IdempotencyClaim], IdempotentAnswer],
) -> IdempotentAnswer:
    """Run `run` once per (user, key): the Idempotency-Key protocol.

    Begin (claim the key, or wait for the request that holds it); a key
    already answered with the same body replays that answer (`replayed`);
    otherwise `run(claim)` answers (`claim.resume_order_id` says it resumes an
    order a dead request created), its answer is stored, and its `error`, if
    any, raised. If `run` raises, nothing is stored and the key is released
    (`idempotency_release`). Raises IdempotencyKeyReused and
    IdempotencyRequestInProgress from `idempotency_begin`.
    """
    claim = idempotency_begin(
        user=user, key=key, request_hash=idempotency_request_hash(payload=payload)
    )
    if claim.is_replay:
        return IdempotentAnswer(
            status=claim.replay_status, body=claim.replay_body, replayed=True
        )
    record = claim.record
    assert record is not None
    answered = False
    try:
        answer = run(claim)
        idempotency_complete(record=record, status=answer.status, body=answer.body)
        answered = True
    finally:
        if not answered:
            idempotency_release(record=record)
    if answer.error is not None:
        raise answer.error
    return answer


def idempotency_abandon(*, record: IdempotencyRecord) -> None:
    """Forget the key: the request ended before doing anything worth
    replaying, so the client may retry it with the same key."""
    IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS
    ).delete()


def idempotency_purge_expired(*, batch: int = 5000) -> int:
    """Delete expired records, at most `batch` per call; returns how many."""
    ids = list(
        IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).values_list(
            "pk", flat=True
        )[:batch]
    )
    if not ids:
        return 0
    deleted, _ = IdempotencyRecord.objects.filter(pk__in=ids).delete()
    return deleted
