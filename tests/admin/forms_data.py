"""POST bodies of the back-office forms, as a browser would send them."""


def formset(prefix: str, rows: list[dict], *, total: int | None = None) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(total if total is not None else len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "500",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def journal_entry(*lines: tuple[str, str, str], day: str = "2026-11-05", description: str = "Supplies") -> dict:
    """``lines``: (account, debit, credit) with "" for the empty side."""
    rows = [{"account": a, "debit": d, "credit": c, "memo": ""} for a, d, c in lines]
    # Two blank rows, as the form has spare rows the accountant did not use.
    rows += [{"account": "", "debit": "", "credit": "", "memo": ""}] * 2
    return {
        "date": day,
        "description": description,
        "reference": "",
        "currency": "USD",
        **formset("lines", rows),
    }


def invoice(customer: str = "ACME", due: str = "2026-12-31", *lines: dict) -> dict:
    rows = list(lines) or [
        {
            "description": "Consulting hours",
            "quantity": "3",
            "unit_price": "100.00",
            "account": "4100",
            "tax_rate": "0.2",
        }
    ]
    return {"customer": customer, "currency": "USD", "due_date": due, **formset("lines", rows)}
