"""Statistics of the citizen loop: ratings, 满意率, reopenings and duplicates; settling them."""

from datetime import timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from app.config import Settings
from app.reports import ratings
from app.reports import service as reports
from app.reports.clocks import start_of_local_day
from app.reports.models import CLOCKED_STATUSES, Category, DeclineReason, Rating, Report, Verdict
from app.reports.rating_window import rating_open
from app.reports.schemas import DeclineIn, RatingIn, ReportCreate, ResolveIn
from app.stats.notice import annex_columns, annex_rows, overview, problems
from app.stats.periods import parse_period
from app.stats.queries import unit_figure_counts
from app.stats.schemas import Figures, Flag
from app.stats.settle import settle, settled_months
from app.workdays.sources import get_calendar
from tests.conftest import Directory, local
from tests.stats.conftest import compute, handler
from tests.stats.figures import made_up_stats


def rated(ratings_given: int, satisfied: int, **counts: int) -> Figures:
    resolved = counts.pop("resolved", ratings_given)
    return Figures.from_counts(
        {
            "received": resolved,
            "resolved": resolved,
            "first_replies_due": resolved,
            "first_replies_in_time": resolved,
            "ratings": ratings_given,
            "satisfied_ratings": satisfied,
            **counts,
        }
    )


def test_the_notice_flags_a_low_satisfaction_rate_once_a_unit_has_enough_ratings() -> None:
    stats = made_up_stats(
        [
            ("丙市民政局", rated(5, 3)),  # 60%: flagged
            ("丙市教育局", rated(4, 1)),  # 25%, but fewer than 5 ratings: not judged
            ("丙市卫生健康委员会", rated(10, 8)),  # 80% is not below 80%
            ("丙市交通运输局", rated(2000, 1599, reopened=3, duplicates_declined=2)),  # 79.95%
        ]
    )
    flagged = {unit.unit_name for unit in stats.units if Flag.low_satisfaction in unit.flags}
    assert flagged == {"丙市民政局", "丙市交通运输局"}
    assert overview(stats).endswith(
        "网民评价2019条，其中满意和基本满意1611条，满意率79.8%；因网民不满意重新办理3条；"
        "作为重复留言不予受理2条。"
    )
    assert problems(stats)[-1] == (
        "（四）网民满意率低于80%。2家单位网民满意率低于80%：丙市民政局（60%）、"
        "丙市交通运输局（79.95%）。"
    )
    headers = [column.header for column in annex_columns(stats)]
    assert headers[-5:] == ["网民评价", "满意率", "重办", "重复留言", "存在问题"]
    rows = {row[1]: row for row in annex_rows(stats, as_text=True)}
    assert rows["丙市民政局"][-5:] == [5, "60%", 0, 0, "满意率低于80%"]
    assert rows["丙市教育局"][-5:] == [4, "25%", 0, 0, ""]
    assert rows["丙市交通运输局"][-5:] == [2000, "79.95%", 3, 2, "满意率低于80%"]
    assert annex_rows(stats, as_text=True)[-1][-5:] == [2019, "79.8%", 3, 2, ""]
    values = {row[1]: row for row in annex_rows(stats, as_text=False)}
    assert values["丙市交通运输局"][16] == 0.7995 and values["丙市民政局"][16] == 0.6


def test_a_single_unit_below_the_rate_is_named_with_its_count() -> None:
    stats = made_up_stats([("丙市民政局", rated(6, 3))])
    assert problems(stats)[-1] == (
        "（四）网民满意率低于80%。丙市民政局收到网民评价6条，满意率为50%，低于80%。"
    )
    assert "满意率" not in "".join(problems(made_up_stats([("丙市民政局", rated(6, 6))])))


def submit(session: Session, settings: Settings, site_code: str, at) -> Report:
    return reports.submit(
        session=session,
        report_in=ReportCreate(
            site_code=site_code,
            page_url="https://jyj.jia.example.gov.cn/tzgg/1.html",
            category=Category.typo,
            description="通知标题有错别字。",
        ),
        now=at,
        calendar=get_calendar(session),
        settings=settings,
    )


def resolve(session: Session, settings: Settings, report: Report, at) -> None:
    reports.resolve(
        session=session,
        principal=handler(report.owner_unit_id),
        report_id=report.id,
        resolve_in=ResolveIn(verdict=Verdict.confirmed, text="已改正。"),
        now=at,
        calendar=get_calendar(session),
        settings=settings,
    )


def give(session: Session, settings: Settings, report: Report, rating: Rating, comment, at):
    ratings.rate(
        session=session,
        tracking_code=report.tracking_code,
        rating_in=RatingIn(rating=rating, comment=comment),
        now=at,
        calendar=get_calendar(session),
        settings=settings,
    )


def test_statistics_count_ratings_reopenings_and_duplicates_per_unit_and_subtree(
    session: Session, settings: Settings, directory: Directory
) -> None:
    day = local(2026, 9, 14, 10, 0)  # Monday
    made = [submit(session, settings, directory.site_a1, day) for _ in range(7)]
    for report in made[:6]:
        resolve(session, settings, report, day + timedelta(days=1))
    later = day + timedelta(days=2)
    for report, rating, comment in zip(
        made,
        [
            Rating.satisfied,
            Rating.basically_satisfied,
            Rating.dissatisfied,
            Rating.dissatisfied,
            Rating.satisfied,
        ],
        [None, "还行", None, "仍有错字", None],
        strict=False,
    ):
        give(session, settings, report, rating, comment, later)
    reports.decline(
        session=session,
        principal=handler(directory.dept_a1),
        report_id=made[6].id,
        decline_in=DeclineIn(
            reason=DeclineReason.duplicate, text="重复留言。", duplicate_of=made[0].id
        ),
        now=later,
        calendar=get_calendar(session),
        settings=settings,
    )
    stats = compute(session, settings, "2026-09", local(2026, 9, 30, 18, 0), directory.province)
    units = {unit.unit_name: unit for unit in stats.units}
    own = units["甲市教育局"].own
    assert (own.ratings, own.satisfied_ratings, own.satisfaction_rate) == (5, 3, 0.6)
    assert (own.reopened, own.duplicates_declined, own.resolved) == (1, 1, 5)
    assert Flag.low_satisfaction in units["甲市教育局"].flags
    city = units["甲市人民政府办公室"]
    assert (city.own.ratings, city.subtree.ratings, city.subtree.satisfied_ratings) == (0, 5, 3)
    assert (city.subtree.reopened, city.subtree.duplicates_declined) == (1, 1)
    assert (stats.totals.ratings, stats.totals.satisfaction_rate) == (5, 0.6)
    # Before the ratings (a cut-off on the day of the closings) none count.
    before = compute(session, settings, "2026-09", local(2026, 9, 15, 18, 0), directory.province)
    assert (before.totals.ratings, before.totals.reopened) == (0, 0)


# --- settled and unsettled figures agree, whatever is rated and reopened ----------------

STEPS = ("submit", "close", "rate", "settle", "wait")
PERIODS = ("2026-09", "2026-10", "2026-Q4", "2026", "2026-09-10..2026-11-20")


def compare(session: Session, settings: Settings, directory: Directory, as_of) -> None:
    for key in PERIODS:
        period = parse_period(key)
        months = settled_months(
            session=session,
            start=period.start,
            next_day=period.next_day,
            as_of=as_of,
            settings=settings,
        )
        for scope_root_id, scope_unit_ids in (
            (None, None),
            (directory.city_a, [directory.city_a, directory.dept_a1]),
        ):
            arguments = {
                "session": session,
                "scope_root_id": scope_root_id,
                "scope_unit_ids": scope_unit_ids,
                "start": start_of_local_day(period.start, settings.tz),
                "end": start_of_local_day(period.next_day, settings.tz),
                "as_of": as_of,
            }
            expected = unit_figure_counts(**arguments, settled=None)
            assert unit_figure_counts(**arguments, settled=months) == expected, (key, as_of)


@hypothesis_settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_settled_and_unsettled_figures_agree_through_reopenings(
    session: Session, settings: Settings, directory: Directory, data
) -> None:
    session.commit()
    calendar = get_calendar(session)
    now = local(2026, 9, 1, 9, 0)
    made: list[int] = []
    try:
        for step in data.draw(st.lists(st.sampled_from(STEPS), min_size=8, max_size=40)):
            now += timedelta(hours=data.draw(st.integers(1, 24 * 8)))
            if step == "submit" or not made:
                site = data.draw(st.sampled_from([directory.site_a1, directory.site_b1]))
                made.append(submit(session, settings, site, now).id)
                continue
            report = session.get(Report, data.draw(st.sampled_from(made)))
            if step == "close" and report.status in CLOCKED_STATUSES:
                if data.draw(st.booleans()):
                    resolve(session, settings, report, now)
                else:
                    reports.decline(
                        session=session,
                        principal=handler(report.owner_unit_id),
                        report_id=report.id,
                        decline_in=DeclineIn(reason=DeclineReason.other, text="不予受理。"),
                        now=now,
                        calendar=calendar,
                        settings=settings,
                    )
            elif step == "rate" and rating_open(report=report, now=now):
                rating = data.draw(st.sampled_from(list(Rating)))
                comment = data.draw(st.sampled_from([None, "仍未改正"]))
                give(session, settings, report, rating, comment, now)
            elif step == "settle":
                settle(session=session, now=now, settings=settings)
                compare(session, settings, directory, now)
        settle(session=session, now=now, settings=settings)
        compare(session, settings, directory, now)
        compare(session, settings, directory, now + timedelta(days=data.draw(st.integers(0, 60))))
        # Once every window has passed, everything closed is settled.
        much_later = now + timedelta(days=40)
        settle(session=session, now=much_later, settings=settings)
        compare(session, settings, directory, much_later)
        unsettled = session.exec(
            select(Report.id).where(
                col(Report.status).in_(["resolved", "declined"]),
                Report.settled == False,  # noqa: E712
            )
        ).all()
        assert unsettled == []
    finally:
        session.rollback()
