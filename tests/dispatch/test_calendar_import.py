"""`manage.py calendar_import`: years from chinese-calendar, and CSV day lists for years it does not ship."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from freezegun import freeze_time

from dispatch.calendar import calendar_for
from dispatch.models import BusinessCalendar, CalendarDay

pytestmark = pytest.mark.django_db

# Illustrative, like the README's example: the official 2027 list is not published yet.
GOOD = """\ufeffdate,kind,name
2027-01-01,holiday,元旦
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-13,workday,春节调休

2027-10-01,holiday,国庆节
"""


def write(tmp_path, text: str, name: str = "holidays-2027.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def days_2027() -> dict:
    city = BusinessCalendar.objects.get(org_unit__isnull=True)
    return {d.date: (d.is_working, d.note) for d in CalendarDay.objects.filter(calendar=city, date__year=2027)}


def test_a_csv_day_list_is_imported_once_and_makes_the_year_known(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert calendar_for(None).known_through(date(2026, 12, 1)) == date(2026, 12, 31)
    call_command("calendar_import", str(path))
    assert days_2027() == {
        date(2027, 1, 1): (False, "元旦"),
        date(2027, 2, 6): (False, "春节"),
        date(2027, 2, 7): (False, "春节"),
        date(2027, 2, 13): (True, "春节调休"),
        date(2027, 10, 1): (False, "国庆节"),
    }
    assert "5 added, 0 updated, 0 unchanged" in capsys.readouterr().out
    cal = calendar_for(None)
    assert not cal.is_working_day(date(2027, 1, 1)) and cal.is_working_day(date(2027, 2, 13))  # a Saturday
    assert cal.known_through(date(2026, 12, 1)) == date(2027, 12, 31)

    call_command("calendar_import", str(path))  # idempotent
    assert "0 added, 0 updated, 5 unchanged" in capsys.readouterr().out
    write(tmp_path, GOOD.replace("2027-10-01,holiday,国庆节", "2027-10-01,holiday,国庆节 National Day"))
    call_command("calendar_import", str(path))
    assert "0 added, 1 updated, 4 unchanged" in capsys.readouterr().out
    assert len(days_2027()) == 5


def test_every_problem_names_file_row_and_field_and_nothing_is_written(tmp_path):
    path = write(
        tmp_path,
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n"  # a good row: still not written
        "2027-02-30,holiday,春节\n"
        "2027-02-06,holday,春节\n"
        f"2027-02-07,holiday,{'长' * 65}\n"
        "2027-01-01,workday,again\n"
        "2027-W05-1,holiday,week date\n"
        "2027-03-01\n",
    )
    with pytest.raises(CommandError) as refused:
        call_command("calendar_import", str(path))
    message = str(refused.value)
    assert message.startswith("Nothing imported:")
    for expected in [
        f"{path}, row 3, field date: '2027-02-30' is not a date written YYYY-MM-DD",
        f"{path}, row 4, field kind: 'holday' is not one of holiday, workday",
        f"{path}, row 5, field name: longer than 64 characters",
        f"{path}, row 6, field date: 2027-01-01 is already given in {path}, row 2",
        f"{path}, row 7, field date: '2027-W05-1' is not a date written YYYY-MM-DD",
        f"{path}, row 8: expected the fields date,kind,name, found 1 fields",
    ]:
        assert expected in message
    assert days_2027() == {}


def test_a_file_without_the_header_or_that_does_not_exist_is_refused(tmp_path):
    path = write(tmp_path, "2027-01-01,holiday,元旦\n")
    with pytest.raises(CommandError, match=r"row 1: the first row must be the header date,kind,name"):
        call_command("calendar_import", str(path))
    with pytest.raises(CommandError, match=r"missing\.csv: no such file"):
        call_command("calendar_import", str(tmp_path / "missing.csv"))
    assert days_2027() == {}


def test_one_bad_file_among_several_imports_nothing(tmp_path):
    good = write(tmp_path, GOOD)
    bad = write(tmp_path, "date,kind,name\n2028-01-01,holidy,元旦\n", "holidays-2028.csv")
    with pytest.raises(CommandError, match=r"holidays-2028\.csv, row 2, field kind"):
        call_command("calendar_import", str(good), str(bad))
    assert days_2027() == {}


def test_a_unit_calendar_and_years_from_chinese_calendar(tmp_path, capsys):
    from accounts.models import OrgUnit

    port = BusinessCalendar.objects.create(name="港区作息", org_unit=OrgUnit.objects.get(code="990104"))
    call_command("calendar_import", str(write(tmp_path, GOOD)), "--unit", "990104")
    assert port.days.filter(date__year=2027).count() == 5 and days_2027() == {}
    call_command("calendar_import", "2026", "--unit", "990104")
    assert port.days.filter(date=date(2026, 10, 10), is_working=True).exists()  # 调休 Saturday
    with pytest.raises(CommandError, match="chinese-calendar has no data for 2027"):
        call_command("calendar_import", "2027")


@freeze_time("2026-12-01 10:00:00+08:00")
def test_after_importing_the_city_no_longer_misses_next_year(tmp_path):
    from dispatch.calendar_health import calendar_gaps

    assert [g.name for g in calendar_gaps()] == ["示范市工作日历"]
    call_command("calendar_import", str(write(tmp_path, GOOD)))
    assert calendar_gaps() == []


def test_the_readme_example_imports(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Calendar for next year", 1)[1].split("\n## ", 1)[0]
    example = section.split("```csv\n", 1)[1].split("```", 1)[0]
    call_command("calendar_import", str(write(tmp_path, example)))
    assert len(days_2027()) == example.count("\n2027-")
    assert calendar_for(None).known_through(date(2026, 12, 1)) == date(2027, 12, 31)
