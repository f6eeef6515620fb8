from rollout import bucketing
from rollout.evaluation import (
    ALLOWED,
    DENIED,
    DISABLED,
    IN_COHORT,
    OUT_OF_COHORT,
    Decision,
    FlagRule,
    decide,
)

SALT = "precedence-salt"


def rule(**overrides) -> FlagRule:
    return FlagRule(**{"name": "f", "salt": SALT, "enabled": True, "threshold": 0, **overrides})


def test_kill_switch_beats_every_list_and_the_percentage():
    flag = rule(enabled=False, threshold=10_000, allow_user_ids=frozenset({7}))

    assert decide(flag, 7, b"user:7") == Decision(False, DISABLED)


def test_deny_beats_allow():
    flag = rule(threshold=10_000, allow_user_ids=frozenset({7}), deny_user_ids=frozenset({7}))

    assert decide(flag, 7, b"user:7") == Decision(False, DENIED)


def test_allow_beats_the_percentage():
    assert decide(rule(threshold=0, allow_user_ids=frozenset({7})), 7, b"user:7") == Decision(True, ALLOWED)


def test_deny_beats_full_percentage():
    assert decide(rule(threshold=10_000, deny_user_ids=frozenset({7})), 7, b"user:7").value is False


def test_percentage_decides_the_rest_and_reports_the_bucket():
    bucket = bucketing.bucket(SALT, "user:9")

    assert decide(rule(threshold=bucket + 1), 9, b"user:9") == Decision(True, IN_COHORT, bucket)
    assert decide(rule(threshold=bucket), 9, b"user:9") == Decision(False, OUT_OF_COHORT, bucket)


def test_anonymous_visitors_ignore_user_lists():
    flag = rule(threshold=0, allow_user_ids=frozenset({7}))

    assert decide(flag, None, b"anon:7").reason == OUT_OF_COHORT


def test_gates_matches_path_prefixes():
    flag = rule(path_prefixes=("/beta/", "/labs"))

    assert [flag.gates(p) for p in ("/beta/x", "/labs", "/labsx", "/alpha/", "/bet")] == [
        True,
        True,
        True,
        False,
        False,
    ]
