"""Notices the workday tests load."""

from app.workdays.schemas import CalendarNotice


def notice_2027_fields(**changes) -> dict:
    """A notice for 2027 in the shape of the real ones (2027-01-01 and 10-01 are Fridays).

    17 holiday days, 3 make-up working days; 253 working days in the year.
    """
    fields = {
        "source": "国务院办公厅关于2027年部分节假日安排的通知",
        "holidays": [
            {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
            {"name": "春节", "start": "2027-02-06", "end": "2027-02-12"},
            {"name": "国庆节", "start": "2027-10-01", "end": "2027-10-07"},
        ],
        "makeup_workdays": [
            {"name": "春节", "date": "2027-02-14"},
            {"name": "国庆节", "date": "2027-09-26"},
            {"name": "国庆节", "date": "2027-10-09"},
        ],
    }
    return fields | changes


def notice_2027(**changes) -> CalendarNotice:
    return CalendarNotice.model_validate(notice_2027_fields(**changes))
