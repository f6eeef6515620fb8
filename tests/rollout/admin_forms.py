"""Posting the flag admin's forms as a browser would."""

import re

from rollout.models import Flag

ADD = "/admin/rollout/flag/add/"


def change_url(flag: Flag) -> str:
    return f"/admin/rollout/flag/{flag.pk}/change/"


def form_data(client, url: str, **fields) -> dict:
    """What the browser would post: the page's hidden inline management values, the
    form's empty defaults, and the fields given."""
    page = client.get(url, secure=True).content.decode()
    data = dict(re.findall(r'name="(changes-[A-Z_]+)" value="(\d+)"', page))
    data.update(
        {"description": "", "percentage": "0", "prefixes": "", "fallback_url": "", "ramp": "", "ramp_control": ""}
    )
    data.update(fields)
    return data
