"""Query parameters: a bad value is a 400 naming the parameter, never a silent default."""

from datetime import date

from rest_framework.exceptions import ValidationError

_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def date_param(request, name: str, default: date | None = None) -> date | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: ["must be a date YYYY-MM-DD"]}) from None


def bool_param(request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValidationError({name: ["must be true or false"]})


def int_param(request, name: str, *, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValidationError({name: ["must be an integer"]}) from None
    if number < minimum:
        raise ValidationError({name: [f"must be at least {minimum}"]})
    return number if maximum is None else min(number, maximum)


def choice_param(request, name: str, choices) -> str | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if value not in choices:
        raise ValidationError({name: [f"must be one of {', '.join(choices)}"]})
    return value
