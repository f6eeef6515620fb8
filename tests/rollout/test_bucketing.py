import hashlib
import json
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollout import bucketing

# Frozen: if one of these moves, every user on every flag moves with it. A new mapping
# needs a new SCHEME, never an edit of these numbers.
GOLDEN = [
    ("a3f1c2d4e5f60718293a4b5c6d7e8f90", "user:1", 7481),
    ("a3f1c2d4e5f60718293a4b5c6d7e8f90", "user:2", 7445),
    ("a3f1c2d4e5f60718293a4b5c6d7e8f90", "user:1000000", 9708),
    ("00000000000000000000000000000000", "user:1", 2753),
    ("salt", "anon:kq3Jd0xZ2b8yF5mN1pQ7sA", 277),
    ("", "user:42", 7062),
]


@pytest.mark.parametrize(("salt", "subject", "expected"), GOLDEN)
def test_golden_vectors_freeze_the_mapping(salt, subject, expected):
    assert bucketing.bucket(salt, subject) == expected


def test_the_mapping_is_the_documented_formula():
    # docs/rollout.md: first 8 bytes of SHA-256("v1:<salt>:<subject>"), big-endian, mod 10000
    digest = hashlib.sha256(b"v1:pepper:user:7").digest()

    assert bucketing.bucket("pepper", "user:7") == int.from_bytes(digest[:8], "big") % 10_000


@pytest.mark.parametrize("percentage", ["1", "10", "50"])
def test_share_in_cohort_is_within_half_a_point_over_100k_subjects(percentage):
    salt = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    limit = bucketing.threshold(Decimal(percentage))

    inside = sum(bucketing.bucket(salt, bucketing.user_subject(user_id)) < limit for user_id in range(100_000))

    assert abs(inside / 100_000 * 100 - float(percentage)) <= 0.5


def test_anonymous_visitor_ids_spread_as_evenly():
    limit = bucketing.threshold(Decimal("10"))
    visitors = [uuid.UUID(int=n).hex for n in range(100_000)]

    inside = sum(bucketing.bucket("salt", bucketing.anonymous_subject(v)) < limit for v in visitors)

    assert abs(inside / 1000 - 10) <= 0.5


def test_salts_decorrelate_flags():
    # The same 10 % of users must not get every flag: with independent salts the overlap
    # of two 10 % cohorts is about 1 %.
    limit = bucketing.threshold(Decimal("10"))
    first = {u for u in range(100_000) if bucketing.bucket("flag-one-salt", f"user:{u}") < limit}
    second = {u for u in range(100_000) if bucketing.bucket("flag-two-salt", f"user:{u}") < limit}

    assert abs(len(first & second) / 1000 - 1) <= 0.3


@pytest.mark.parametrize(
    ("percentage", "expected"),
    [("0", 0), ("0.01", 1), ("12.34", 1234), ("99.99", 9999), ("100", 10_000), ("100.00", 10_000)],
)
def test_threshold_counts_buckets(percentage, expected):
    assert bucketing.threshold(Decimal(percentage)) == expected


percentages = st.decimals(min_value=0, max_value=100, places=2)


@given(salt=st.text(max_size=32), user_ids=st.lists(st.integers(1, 10**9), min_size=1, max_size=50), p=percentages)
def test_raising_the_percentage_only_adds_subjects(salt, user_ids, p):
    q = p + (Decimal(100) - p) / 2
    low, high = bucketing.threshold(p), bucketing.threshold(q)

    before = {u for u in user_ids if bucketing.bucket(salt, bucketing.user_subject(u)) < low}
    after = {u for u in user_ids if bucketing.bucket(salt, bucketing.user_subject(u)) < high}

    assert before <= after


@given(
    salt=st.text(max_size=32),
    user_ids=st.lists(st.integers(1, 10**9), min_size=1, max_size=50),
    steps=st.lists(percentages, min_size=2, max_size=6),
)
def test_lowering_removes_the_last_added_first(salt, user_ids, steps):
    # Ramp up through the steps, then back down: at each step on the way down exactly
    # those who had joined by that step remain, so the last to join are the first to leave.
    ramp = sorted(steps)
    joined_at = {}
    for index, p in enumerate(ramp):
        for u in user_ids:
            if bucketing.bucket(salt, bucketing.user_subject(u)) < bucketing.threshold(p):
                joined_at.setdefault(u, index)
    for index, p in reversed(list(enumerate(ramp))):
        inside = {u for u in user_ids if bucketing.bucket(salt, bucketing.user_subject(u)) < bucketing.threshold(p)}
        assert inside == {u for u, joined in joined_at.items() if joined <= index}


def test_a_subject_gets_the_same_bucket_in_another_process():
    subjects = [f"user:{n}" for n in range(0, 5000, 7)] + [f"anon:{uuid.UUID(int=n).hex}" for n in range(300)]
    script = (
        "import json, sys; from rollout import bucketing; "
        "subjects = json.load(sys.stdin); "
        "print(json.dumps([bucketing.bucket('cross-process-salt', s) for s in subjects]))"
    )

    # A different hash seed shows nothing depends on Python's per-process hash().
    other = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(subjects),
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )

    assert json.loads(other.stdout) == [bucketing.bucket("cross-process-salt", s) for s in subjects]


@given(salt=st.text(max_size=40), subject=st.text(max_size=40))
def test_the_hot_path_agrees_with_the_reference(salt, subject):
    assert bucketing.bucket_of(bucketing.key_prefix(salt), subject.encode()) == bucketing.bucket(salt, subject)
