"""When a crontab schedule really runs: a small evaluator of cron's five time fields.

A kit module of the files family (no checks here). A schedule that is valid field by field
can still never run (``0 2 30 2 *``: there is no 30 February; ``0 3 31 4,6,9,11 *``: those
months have 30 days) or run far less often than it looks. ``CronSchedule`` turns the fields
into sets of values and answers with dates: the next runs, whether it ever runs, the longest
wait between two runs over a horizon of four years (so a leap day is always inside it).

Cron's rules as Vixie cron and cronie apply them:

- fields are lists of ``*``, ``n``, ``a-b``, each with an optional step ``/s``; ``n/s`` means
  from n to the field's end every s; names (``jan``, ``sun``) in the month and weekday fields;
  weekday 7 is Sunday like 0;
- a day runs when its month matches and — if the day-of-month or the day-of-week field starts
  with ``*`` — both day fields match; if neither starts with ``*``, when *either* matches
  (``0 3 1 * mon``: the 1st of each month and every Monday);
- times are wall-clock times of the machine's time zone; daylight-saving shifts are not
  modelled (cron runs a fixed-time job once on such a night anyway).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

FIELDS = (  # name, lowest, highest, names
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *", "@reboot": None,
}
HORIZON_DAYS = 4 * 366  # every calendar day, 29 February included, occurs in it
MONTH_NAMES = tuple(calendar.month_name[m] for m in range(13))


def _value(text: str, low: int, high: int, names) -> int:
    if names and text.lower() in names:
        return names.index(text.lower()) + (1 if low == 1 else 0)
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a number" + (f" or a name ({', '.join(names)})" if names else ""))
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}–{high}")
    return value


def field_values(text: str, field: tuple) -> frozenset[int]:
    """The values one field stands for; ValueError (with the reason) when it is not valid."""
    name, low, high, names = field
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise ValueError(f"{name} field {text!r} has an empty list item")
        base, slash, step_text = item.partition("/")
        if slash and (not step_text.isdigit() or int(step_text) < 1):
            raise ValueError(f"{name} field {text!r}: step {step_text!r} must be a positive number")
        step = int(step_text) if slash else 1
        try:
            if base == "*":
                first, last = low, high
            else:
                a, dash, b = base.partition("-")
                first = _value(a, low, high, names)
                last = _value(b, low, high, names) if dash else (high if slash else first)
                if first > last:
                    raise ValueError(f"range {base} runs backwards")
        except ValueError as exc:
            raise ValueError(f"{name} field {text!r}: {exc}") from None
        values.update(range(first, last + 1, step))
    if name == "day of week" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule: the values of each field, and whether the day fields start with ``*``."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    day_star: bool
    weekday_star: bool
    reboot: bool = False

    @classmethod
    def parse(cls, text: str) -> "CronSchedule":
        """Five fields or a macro; ValueError saying what is wrong."""
        text = " ".join(text.split())
        if text.startswith("@"):
            if text.lower() not in MACROS:
                raise ValueError(f"unknown schedule {text} (known: {', '.join(MACROS)})")
            expansion = MACROS[text.lower()]
            if expansion is None:
                return cls(text, frozenset(), frozenset(), frozenset(), frozenset(), frozenset(), True, True, True)
            parsed = cls.parse(expansion)
            return cls(text, parsed.minutes, parsed.hours, parsed.days, parsed.months, parsed.weekdays,
                       parsed.day_star, parsed.weekday_star)
        fields = text.split()
        if len(fields) != 5:
            raise ValueError(f"{len(fields)} field(s); a schedule has five (minute hour day-of-month month day-of-week)")
        minutes, hours, days, months, weekdays = (field_values(f, spec) for f, spec in zip(fields, FIELDS))
        return cls(text, minutes, hours, days, months, weekdays,
                   day_star=fields[2].startswith("*"), weekday_star=fields[4].startswith("*"))

    def runs_on(self, day: dt.date) -> bool:
        if self.reboot or day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = day.isoweekday() % 7 in self.weekdays
        if self.day_star or self.weekday_star:
            return by_day and by_weekday
        return by_day or by_weekday

    def times(self) -> list[dt.time]:
        """The times of day it runs on a day it runs, in order."""
        return [dt.time(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]

    def next_runs(self, after: dt.datetime, count: int = 3, horizon_days: int = HORIZON_DAYS) -> list[dt.datetime]:
        out: list[dt.datetime] = []
        times = self.times()
        day = after.date()
        for _ in range(horizon_days + 1):
            if self.runs_on(day):
                out.extend(t for t in (dt.datetime.combine(day, x) for x in times) if t > after)
                if len(out) >= count:
                    return out[:count]
            day += dt.timedelta(days=1)
        return out

    def summary(self, start: dt.datetime, horizon_days: int = HORIZON_DAYS) -> "RunSummary":
        """How it runs from ``start`` over ``horizon_days``: the number of runs, the longest wait
        between two runs (the horizon's ends count as runs, so a schedule that stops is caught)."""
        start = start.replace(second=0, microsecond=0)
        end = start + dt.timedelta(days=horizon_days)
        times = self.times()
        runs, longest, previous = 0, dt.timedelta(0), start
        day = start.date()
        while day <= end.date() and times:
            if self.runs_on(day):
                todays = [t for t in (dt.datetime.combine(day, x) for x in times) if start < t <= end]
                if todays:
                    longest = max(longest, todays[0] - previous,
                                  *(b - a for a, b in zip(todays, todays[1:])))
                    previous = todays[-1]
                    runs += len(todays)
            day += dt.timedelta(days=1)
        longest = max(longest, end - previous)
        return RunSummary(runs=runs, longest_wait=longest, horizon=end - start,
                          next_runs=tuple(self.next_runs(start)))

    def why_never(self) -> str:
        """Why a schedule that never runs does not (for the feedback)."""
        if self.reboot:
            return "@reboot runs only when the machine starts, never on a schedule"
        if not self.day_star and not self.weekday_star:
            return "no date matches it"
        # Only the day-of-month restriction can make it empty: some day never occurs in the months.
        months = ", ".join(MONTH_NAMES[m] for m in sorted(self.months))
        days = ", ".join(str(d) for d in sorted(self.days))
        return f"day {days} of the month never occurs in {months}"


@dataclass(frozen=True)
class RunSummary:
    runs: int
    longest_wait: dt.timedelta
    horizon: dt.timedelta
    next_runs: tuple[dt.datetime, ...]


def in_window(time: dt.time, window: tuple[dt.time, dt.time]) -> bool:
    """Whether ``time`` lies in ``[start, end)``; a window like 22:00–06:00 wraps past midnight."""
    start, end = window
    if start <= end:
        return start <= time < end
    return time >= start or time < end


def parse_window(text: str) -> tuple[dt.time, dt.time]:
    """``"22:00-06:00"`` -> (22:00, 06:00); ValueError when it is not two HH:MM times."""
    parts = [p.strip() for p in str(text).split("-")]
    if len(parts) != 2:
        raise ValueError(f"a time window is written HH:MM-HH:MM, not {text!r}")
    start, end = (dt.time.fromisoformat(p if len(p) > 2 else f"{int(p):02d}:00") for p in parts)
    return start, end


def describe_wait(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{hours:g} hours"
    days = hours / 24
    return f"{days:.0f} days" if days < 120 else f"{days / 365.25:.1f} years"
