"""CronJob schedules as the API server parses them (robfig/cron v3 `ParseStandard`), and its errors: for the
model (a cronjob service's schedule) and for `sophia validate` (a CronJob's) alike.

Five fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-6 or
SUN-SAT), each a comma-separated list of `*`, `?`, `N`, `N-M`, each with an optional `/step`; or a
descriptor (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`,
`@every <duration>`). `TZ=` prefixes are refused by the CronJob validation itself.
"""

from __future__ import annotations

import re

_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 6, _DAYS),
)
_DURATION = re.compile(r"[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+|[+-]?0")


def schedule_errors(schedule: str) -> list[str]:
    """The API server's messages for a schedule (empty when it parses)."""
    errors = []
    parsed = _parse(schedule)
    if parsed:
        errors.append(parsed)
    if "TZ" in schedule:
        errors.append("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    return errors


def _parse(spec: str) -> str:
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        rest = spec.split(" ", 1)
        spec = rest[1].strip() if len(rest) > 1 else ""
    if spec.startswith("@"):
        return _descriptor(spec)
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    for text, (low, high, names) in zip(fields, _BOUNDS, strict=True):
        for expr in text.split(","):
            problem = _range(expr, low, high, names)
            if problem:
                return problem
    return ""


def _descriptor(spec: str) -> str:
    if spec in _DESCRIPTORS:
        return ""
    if spec.startswith("@every "):
        duration = spec[len("@every "):]
        if not _DURATION.fullmatch(duration):
            return f'failed to parse duration {spec}: time: invalid duration "{duration}"'
        return ""
    return f"unrecognized descriptor: {spec}"


def _range(expr: str, low: int, high: int, names: dict[str, int]) -> str:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        first = _int_or_name(low_and_high[0], names)
        if isinstance(first, str):
            return first
        start = end = first
        if len(low_and_high) == 2:
            second = _int_or_name(low_and_high[1], names)
            if isinstance(second, str):
                return second
            end = second
        elif len(low_and_high) > 2:
            return f"too many hyphens: {expr}"
    step = 1
    if len(range_and_step) == 2:
        parsed = _int(range_and_step[1])
        if isinstance(parsed, str):
            return parsed
        step = parsed
        if len(low_and_high) == 1:
            end = high
    elif len(range_and_step) > 2:
        return f"too many slashes: {expr}"
    if start < low:
        return f"beginning of range ({start}) below minimum ({low}): {expr}"
    if end > high:
        return f"end of range ({end}) above maximum ({high}): {expr}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expr}"
    if step == 0:
        return f"step of range should be a positive number: {expr}"
    return ""


def _int_or_name(text: str, names: dict[str, int]) -> int | str:
    named = names.get(text.lower())
    return named if named is not None else _int(text)


def _int(text: str) -> int | str:
    """Go's `strconv.Atoi`, then the parser's refusal of negative numbers."""
    if not re.fullmatch(r"[+-]?[0-9]+", text, re.ASCII):
        return f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
    number = int(text)
    if number < 0:
        return f"negative number ({number}) not allowed: {text}"
    return number
