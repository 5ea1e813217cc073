"""The pre-queue draw, recomputed in Python: for auditors and tests.

`draw.lua` shuffles the pre-queue inside Redis; these functions produce the
same result from the published seed, so anyone holding the list of pre-queued
account ids can check every number. The method, named "sha1-ctr-fisher-yates-v1"
on the status document:

1. Sort the pre-queued user ids ascending.
2. Random stream: block b (b = 0, 1, 2, ...) is SHA-1 of the ASCII string
   "<seed>:<b>"; its hex digest gives three 48-bit values, hex digits 1-12,
   13-24 and 25-36 (the last 4 digits are unused).
3. uniform(m): take stream values r until r < 2**48 - (2**48 mod m), return
   r mod m (rejection sampling: exactly uniform, no modulo bias).
4. Fisher-Yates: for i from n-1 down to 1, j = uniform(i + 1), swap a[i], a[j].
5. a[k] gets number k + 1 (numbers start at 1; nobody joined after the
   on-sale before the draw, which numbers them first).

The seed is 128 bits from the server's CSPRNG, drawn at the on-sale and
published afterwards, so nobody could know it while joining the pre-queue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

DRAW_METHOD = "sha1-ctr-fisher-yates-v1"
_TWO_48 = 1 << 48


def _stream(seed: str) -> Iterator[int]:
    block = 0
    while True:
        digest = hashlib.sha1(f"{seed}:{block}".encode(), usedforsecurity=False)
        text = digest.hexdigest()
        for position in range(3):
            yield int(text[position * 12 : position * 12 + 12], 16)
        block += 1


def prequeue_permutation(*, seed: str, size: int) -> list[int]:
    """The shuffled order of positions 0..size-1 (indexes into the sorted ids)."""
    order = list(range(size))
    stream = _stream(seed)
    for i in range(size - 1, 0, -1):
        bound = i + 1
        limit = _TWO_48 - (_TWO_48 % bound)
        while True:
            value = next(stream)
            if value < limit:
                break
        j = value % bound
        order[i], order[j] = order[j], order[i]
    return order


def prequeue_numbers(*, seed: str, user_ids: Iterable[int]) -> dict[int, int]:
    """Each pre-queued user id -> the number the draw gave it."""
    members = sorted(user_ids)
    order = prequeue_permutation(seed=seed, size=len(members))
    return {members[index]: number for number, index in enumerate(order, start=1)}
