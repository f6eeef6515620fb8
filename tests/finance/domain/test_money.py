from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.domain import money
from finance.domain.errors import RuleViolation


def test_minor_units_follow_iso_4217():
    assert [money.minor_units(c) for c in ("USD", "EUR", "JPY", "KWD", "CLF")] == [2, 2, 0, 3, 4]
    assert not money.is_currency("XAU")
    assert not money.is_currency("usd")


def test_floats_never_become_money():
    with pytest.raises(TypeError):
        money.to_decimal(0.1)
    with pytest.raises(TypeError):
        money.to_decimal(True)
    with pytest.raises(ValueError):
        money.to_decimal("1e9999999999")
    with pytest.raises(ValueError):
        money.to_decimal("NaN")
    assert money.to_decimal(" 12.50 ") == Decimal("12.50")


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.001", "USD"), ("1.5", "JPY"), ("1.0001", "KWD"), ("1.000", "USD")]
)
def test_more_places_than_the_currency_has_are_refused(amount, currency):
    with pytest.raises(RuleViolation):
        money.check_amount(Decimal(amount), currency, "amount")


def test_amounts_are_returned_at_the_currency_scale():
    assert str(money.check_amount(Decimal("5"), "USD", "amount")) == "5.00"
    assert str(money.check_amount(Decimal("5"), "JPY", "amount")) == "5"
    with pytest.raises(RuleViolation):
        money.check_amount(Decimal("0"), "USD", "amount")
    assert money.check_amount(Decimal("0"), "USD", "amount", allow_zero=True) == 0


@given(st.decimals(min_value=-(10**6), max_value=10**6, places=6))
def test_half_up_rounding_is_away_from_zero_at_the_half(value):
    rounded = money.round_half_up(value, "USD")
    assert abs(rounded - value) <= Decimal("0.005")
    if abs(value * 100) % 1 == Decimal("0.5"):
        assert abs(rounded) > abs(value)
