"""Sticky percentage bucketing: plain Python, no Django.

A subject (``user:<id>`` or ``anon:<cookie id>``) lands in one of 10,000 buckets by a
SHA-256 of ``"<scheme>:<salt>:<subject>"``; a flag at ``p`` percent holds the subjects whose
bucket is below ``p × 100``. The threshold only grows when the percentage rises, so raising
it only adds subjects and lowering it removes the ones added last. The scheme version is
part of the hashed text: a future change of the mapping gets a new scheme instead of
silently moving everyone. Golden vectors in the tests freeze scheme ``v1``.
"""

from decimal import Decimal
from hashlib import sha256

SCHEME = "v1"
BUCKETS = 10_000


def key_prefix(salt: str) -> bytes:
    """The hashed text's fixed part for one flag, computed once per flag."""
    return f"{SCHEME}:{salt}:".encode()


def bucket_of(prefix: bytes, subject: bytes) -> int:
    """``bucket`` for a precomputed ``key_prefix`` and an encoded subject (the hot path)."""
    # 64 bits modulo 10,000: the bias is below 1e-15, far under any measurable share.
    return int.from_bytes(sha256(prefix + subject).digest()[:8], "big") % BUCKETS


def bucket(salt: str, subject: str) -> int:
    """The subject's bucket for a flag with this salt: an int in [0, 10000), the same on
    every process, machine and Python version."""
    return bucket_of(key_prefix(salt), subject.encode())


def threshold(percentage: Decimal) -> int:
    """How many buckets a percentage (0–100, two decimals) covers: 12.34 % → 1234."""
    value = int(Decimal(percentage) * 100)
    return 0 if value < 0 else min(value, BUCKETS)


def user_subject(user_id: int) -> str:
    return f"user:{user_id}"


def anonymous_subject(visitor_id: str) -> str:
    return f"anon:{visitor_id}"
