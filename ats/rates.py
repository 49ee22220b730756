"""Rates such as "600/min": DRF's notation plus a multiplier ("5/15min"). No Django imports,
so that settings can check the configured rates at startup."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")


def parse_rate(rate: str | None) -> tuple[int | None, int | None]:
    """ "600/min" -> (600, 60); "5/15min" -> (5, 900); "" or None -> (None, None): no limit."""
    if not rate:
        return None, None
    match = _RATE.match(rate.lower())
    if match is None or match.group(3) not in _UNITS or int(match.group(2) or 1) == 0:
        raise ValueError(
            f"Invalid rate {rate!r}: write requests/period such as '600/min', '5/15min' or "
            "'1000/day' (periods: s, min, h, day), or leave it empty for no limit."
        )
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNITS[unit]
