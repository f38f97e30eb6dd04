"""Working-day arithmetic: WorkCalendar against chinesecalendar's own functions, in one run.

    .venv/bin/python bench/workdays.py [--count 1000000] [--sample 10000] [--seed 20261122]

Inputs are random dates in the package's years (fixed seed). add_workdays takes n in ±1..15
(the deadlines are 2 and 15 working days); workdays_between takes spans of 0 to 60 days (a
report's handling time). chinesecalendar walks day by day, calling is_workday on each, so it is
timed on the first --sample inputs only and its rate is extrapolated; both are checked to give
the same answers on those inputs.
"""

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import chinese_calendar

from app.workdays.sources import build_calendar, packaged_calendar_days

FIRST_DAY = date(2004, 3, 1)  # far enough from 2004-01-01 that 15 working days back stay inside
LAST_DAY = date(2026, 10, 31)  # and from 2026-12-31 that 60 days ahead stay inside
MAX_N = 15
MAX_SPAN_DAYS = 60


def random_days(rng: random.Random, count: int) -> list[date]:
    first, last = FIRST_DAY.toordinal(), LAST_DAY.toordinal()
    return [date.fromordinal(rng.randint(first, last)) for _ in range(count)]


def timed(run: Callable[[], list]) -> tuple[list, float]:
    started = time.perf_counter()
    results = run()
    return results, time.perf_counter() - started


def find_workday_equivalent(d: date, n: int) -> date:
    """add_workdays(d, n) in chinesecalendar's terms.

    find_workday(k, day) for k >= 0 first moves to the first working day on or after day, then
    k working days further; for k < 0 it is the |k|-th working day before day. So the n-th
    working day after d (n >= 1) is find_workday(n - 1, d + 1 day).
    """
    if n > 0:
        return chinese_calendar.find_workday(n - 1, d + timedelta(days=1))
    return chinese_calendar.find_workday(n, d)


def get_workdays_equivalent(start: date, end: date) -> int:
    """workdays_between(start, end): get_workdays counts both ends, so start from the next day."""
    return len(chinese_calendar.get_workdays(start + timedelta(days=1), end))


def compare(
    title: str,
    inputs: list[tuple[date, Any]],
    ours: Callable[[date, Any], Any],
    theirs: Callable[[date, Any], Any],
    *,
    sample: int,
) -> tuple[float, bool]:
    """Time `ours` on every input and `theirs` on the first `sample`; check they agree there.

    Returns the speed-up and whether the answers were identical on the sample.
    """
    our_results, our_seconds = timed(lambda: [ours(a, b) for a, b in inputs])
    sampled = inputs[:sample]
    their_results, their_seconds = timed(lambda: [theirs(a, b) for a, b in sampled])
    agree = our_results[:sample] == their_results
    speed_up = report(
        title,
        (len(our_results), our_seconds),
        (len(their_results), their_seconds),
        agree=agree,
    )
    return speed_up, agree


def report(title: str, ours: tuple[int, float], theirs: tuple[int, float], agree: bool) -> float:
    (our_count, our_seconds), (their_count, their_seconds) = ours, theirs
    our_rate, their_rate = our_count / our_seconds, their_count / their_seconds
    print(title)
    print(
        f"  WorkCalendar           {our_count:>9,} ops in {our_seconds:7.2f} s  "
        f"{our_rate:>12,.0f} ops/s  {1e6 / our_rate:8.2f} µs/op"
    )
    print(
        f"  chinese_calendar       {their_count:>9,} ops in {their_seconds:7.2f} s  "
        f"{their_rate:>12,.0f} ops/s  {1e6 / their_rate:8.2f} µs/op  "
        f"(sample of {their_count:,} of the same inputs; rate extrapolated per operation)"
    )
    print(
        f"  speed-up: {our_rate / their_rate:,.0f}×; answers "
        + (f"identical on all {their_count:,} sampled inputs" if agree else "DIFFER")
    )
    return our_rate / their_rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    calendar = build_calendar(package=packaged_calendar_days(), loaded_days=[], loaded_years=set())
    built_ms = (time.perf_counter() - started) * 1000
    print(
        f"zhaocuo working-day benchmark — seed {args.seed}, Python {sys.version.split()[0]}, "
        f"chinesecalendar {chinese_calendar.__version__}"
    )
    print(f"calendar built in {built_ms:.1f} ms (official {calendar.covered_from} … "
          f"{calendar.covered_until})\n")  # fmt: skip

    add_inputs = list(
        zip(
            random_days(rng, args.count),
            [rng.randint(1, MAX_N) * rng.choice((1, -1)) for _ in range(args.count)],
            strict=True,
        )
    )
    add_ratio, add_agree = compare(
        f"add_workdays: {args.count:,} random (date {FIRST_DAY}…{LAST_DAY}, n = ±1…{MAX_N}) "
        "against chinese_calendar.find_workday",
        add_inputs,
        calendar.add_workdays,
        find_workday_equivalent,
        sample=args.sample,
    )
    print()

    between_inputs = [
        (start, start + timedelta(days=rng.randint(0, MAX_SPAN_DAYS)))
        for start in random_days(rng, args.count)
    ]
    between_ratio, between_agree = compare(
        f"workdays_between: {args.count:,} random (start {FIRST_DAY}…{LAST_DAY}, spans 0…"
        f"{MAX_SPAN_DAYS} days) against len(chinese_calendar.get_workdays)",
        between_inputs,
        calendar.workdays_between,
        get_workdays_equivalent,
        sample=args.sample,
    )

    if not (add_agree and between_agree):
        print("\nFAILED: the answers differ", file=sys.stderr)
        return 1
    print(f"\nslowest speed-up: {min(add_ratio, between_ratio):,.0f}× (target ≥ 50×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
