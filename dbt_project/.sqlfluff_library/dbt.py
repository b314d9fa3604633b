"""Stand-ins for dbt's cross-database macros in sqlfluff's jinja templater (lint only)."""


def dateadd(datepart, interval, from_date):
    return f"{from_date} + interval ({interval}) {datepart}"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"
