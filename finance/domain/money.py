"""Money is a ``Decimal`` in a currency with ISO 4217 minor units. Floats are refused."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from finance.domain.errors import RuleViolation

# ISO 4217 active codes by number of minor units (exponent); X-codes without a minor
# unit (gold, SDR, test codes) are left out on purpose: you cannot invoice in them.
_MINOR_UNITS_EXCEPTIONS = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
_TWO_DECIMALS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN"
    " BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP"
    " GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP"
    " LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR"
    " NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN"
    " SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR"
    " ZMW ZWG"
)

MINOR_UNITS: dict[str, int] = {code: 2 for code in _TWO_DECIMALS.split()}
for _units, _codes in _MINOR_UNITS_EXCEPTIONS.items():
    MINOR_UNITS.update({code: _units for code in _codes.split()})

ZERO = Decimal(0)
_MAX_DIGITS = 30  # beyond any amount, quantity or rate: refuse before arithmetic sees it


def is_currency(code: object) -> bool:
    return isinstance(code, str) and code in MINOR_UNITS


def minor_units(currency: str) -> int:
    return MINOR_UNITS[currency]


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def round_half_up(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half away from zero."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def to_decimal(value: object) -> Decimal:
    """A Decimal from a Decimal, int or decimal string; floats raise TypeError."""
    if isinstance(value, float):
        raise TypeError("money must never be a float")
    if isinstance(value, bool):
        raise TypeError("not a number")
    if isinstance(value, (Decimal, int)):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    else:
        raise TypeError(f"{type(value).__name__} is not a decimal number")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if result and not -_MAX_DIGITS <= result.adjusted() <= _MAX_DIGITS or result.as_tuple().exponent < -_MAX_DIGITS:
        raise ValueError(f"{value!r} is out of range")
    return result


def check_amount(
    amount: Decimal, currency: str, field: str, *, positive: bool = True, allow_zero: bool = False
) -> Decimal:
    """Validate an amount against its currency: at most the minor units, and the sign.

    Returns the amount at the currency's scale (``"5"`` becomes ``5.00`` in USD)."""
    if amount.as_tuple().exponent < -minor_units(currency):
        raise RuleViolation.on(field, f"{currency} allows at most {minor_units(currency)} decimal places")
    if positive and (amount < 0 or (amount == 0 and not allow_zero)):
        raise RuleViolation.on(field, "must be greater than zero" if not allow_zero else "must not be negative")
    if abs(amount) >= Decimal(10) ** 15:
        raise RuleViolation.on(field, "is too large")
    return amount.quantize(quantum(currency))


def fmt(amount: Decimal, currency: str) -> str:
    """The amount as a JSON string at the currency's scale: ``"1250.00"``."""
    return str(amount.quantize(quantum(currency)))
