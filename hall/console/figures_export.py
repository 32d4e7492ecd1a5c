"""The figures as CSV and XLSX: the same numbers as the page (counts, and shares rounded to
0.1 % on the page and in the CSV; exact shares formatted ``0.0%`` in the XLSX).

Text that a spreadsheet would run as a formula (a kiosk's name starting with ``=`` …) is
prefixed with an apostrophe: the names come from the field, and a spreadsheet is no
place to run them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.styles import Font

from hall.services.figures import FIGURE_DEFS, SCORE_LABELS, Figures, Tally

COLUMNS = ("范围 Scope", "终端 Kiosk id", "名称 Name", "月份 Month", "全部办件 All applications",
           "终端申请 Kiosk applications", "窗口登记 Counter entries", "网上申办 Online applications",
           "网上办结 Finished online", "最多跑一次 At most one visit", "零跑动 Zero visits",
           "手机申办 Mobile applications", "上网办理率 Online rate", "网上办结率 Finished online rate",
           "最多跑一次率 At most one visit rate", "零跑动率 Zero visit rate",
           "电子证照办件 Applications with an e-certificate")
RATE_KEYS = ("online_rate", "finished_rate", "le1_rate", "zero_rate")
ALL_MONTHS = "全部 all"


def safe_text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _row(scope: str, kiosk_id: str, name: str, month: str, tally: Tally, ecert_recorded: bool) -> list:
    rates = tally.rates()
    return [scope, kiosk_id, name, month, tally.total, tally.kiosk, tally.counter, tally.online,
            tally.finished_online, tally.le1, tally.zero, tally.mobile, *(rates[key] for key in RATE_KEYS),
            tally.ecert if ecert_recorded else "—"]


def rows(figures: Figures) -> Iterator[list]:
    """County by month and over the period, then each kiosk by month and over the period."""
    for month, tally in figures.county_by_month.items():
        yield _row("县 county", "", figures.county, month, tally, figures.ecert_recorded)
    yield _row("县 county", "", figures.county, ALL_MONTHS, figures.county_total, figures.ecert_recorded)
    for device_id, name in figures.kiosks.items():
        for month, tally in sorted(figures.kiosk_by_month.get(device_id, {}).items()):
            yield _row("终端 kiosk", device_id, name, month, tally, figures.ecert_recorded)
        yield _row("终端 kiosk", device_id, name, ALL_MONTHS, figures.kiosk_total[device_id],
                   figures.ecert_recorded)


def definitions(figures: Figures) -> list[list]:
    measured = {"full_online_items": figures.full_online_rate, "mobile_items": figures.mobile_items_rate,
                **figures.county_total.rates()}
    return [[d.name, d.definition, d.target, measured.get(d.key)] for d in FIGURE_DEFS if d.key != "ecert"]


def to_csv(figures: Figures) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows(figures):
        writer.writerow([safe_text(v) if isinstance(v, str) else v if isinstance(v, int) else percent(v)
                         for v in row])
    return out.getvalue().encode("utf-8-sig")  # the BOM tells spreadsheets it is UTF-8


def to_xlsx(figures: Figures) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Figures"
    bold = Font(bold=True)
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = bold
    for row in rows(figures):
        sheet.append([safe_text(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row][12:12 + len(RATE_KEYS)]:
            cell.number_format = "0.0%"
    plan = book.create_sheet("Definitions")
    plan.append(["指标 Figure", "定义 Definition", "县级目标 County target", "实测 Measured"])
    for row in definitions(figures):
        plan.append(row)
        for cell in plan[plan.max_row][2:]:
            cell.number_format = "0.0%"
    ratings = book.create_sheet("Ratings")
    ratings.append(["范围 Scope", "代码 Key", "名称 Name", "评价数 Ratings",
                    *(SCORE_LABELS[s] for s in sorted(SCORE_LABELS, reverse=True))])
    for scope, found in (("事项 item", figures.ratings_by_item), ("终端 kiosk", figures.ratings_by_kiosk)):
        for r in found:
            ratings.append([scope, safe_text(r.key), safe_text(r.label), r.count,
                            *(r.share_of(s) for s in sorted(SCORE_LABELS, reverse=True))])
            for cell in ratings[ratings.max_row][4:]:
                cell.number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
