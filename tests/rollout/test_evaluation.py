from hypothesis import given
from hypothesis import strategies as st

from rollout import bucketing
from rollout.evaluation import (
    ALLOWED,
    DENIED,
    DISABLED,
    IN_COHORT,
    OUT_OF_COHORT,
    Decision,
    FlagRule,
    active_names,
    answer_table,
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


user_ids = st.integers(min_value=1, max_value=6)
rules = st.builds(
    FlagRule,
    name=st.text(min_size=1, max_size=8),
    salt=st.text(max_size=8),
    enabled=st.booleans(),
    # The edges (0 and 100 %) skip the hash in active_names, so draw them often.
    threshold=st.one_of(st.sampled_from([0, 1, 9_999, 10_000]), st.integers(0, 10_000)),
    allow_user_ids=st.frozensets(user_ids),
    deny_user_ids=st.frozensets(user_ids),
)


@given(
    rules=st.lists(rules, max_size=12, unique_by=lambda flag: flag.name),
    user_id=st.one_of(st.none(), user_ids),
    visitor=st.text(max_size=10),
)
def test_the_one_pass_answer_names_exactly_the_flags_decide_turns_on(rules, user_id, visitor):
    subject = (bucketing.user_subject(user_id) if user_id else bucketing.anonymous_subject(visitor)).encode()

    assert active_names(answer_table(rules), user_id, subject) == [
        flag.name for flag in rules if decide(flag, user_id, subject).value
    ]
