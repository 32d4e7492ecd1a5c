"""``/console/figures``: the work plan's figures for the county, each kiosk and each month
against the plan's targets, as tables and inline-SVG charts, downloadable as CSV and XLSX;
the villagers' ratings per item and kiosk; and ``/console/counter-applications``, where
clerks record the applications made elsewhere than at a kiosk (the rates' denominators).

Who sees what: county admins and viewers the whole county; a clerk the figures of her
department's items (the same scope as her inbox) and records entries for those items; a
technician nothing (403). Forms only, no script (the console's CSP)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from hall.api.deps import ClockDep, DbDep, SettingsDep
from hall.console.auth import SessionDep
from hall.console.charts import rate_chart
from hall.console.figures_export import percent, to_csv, to_xlsx
from hall.console.routes import FormStr, render
from hall.console.security_headers import ConsoleRoute
from hall.errors import InvalidRequest
from hall.services import figures as fig
from hall.timeutil import to_datetime

router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)
CHARTED = ("online_rate", "finished_rate", "le1_rate", "zero_rate")


def _today(settings, clock):
    return (to_datetime(clock()) + timedelta(hours=settings.utc_offset_hours)).date()


def _figures(request: Request, session, db, settings, clock, first: str, last: str,
             kiosk_months: bool = True) -> fig.Figures:
    session.scope.require(session.scope.sees_applications)
    period = fig.parse_period(first[:7], last[:7], _today(settings, clock))
    return fig.compute(db, session.scope, request.app.state.catalog, period, settings.utc_offset_hours,
                       kiosk_months=kiosk_months)


@router.get("/figures")
def figures_page(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, clock: ClockDep,
                 first: str = "", last: str = "") -> HTMLResponse:
    session.scope.require(session.scope.sees_applications)
    try:  # each kiosk month by month is only in the downloads
        figures = _figures(request, session, db, settings, clock, first, last, kiosk_months=False)
        error = ""
    except InvalidRequest as exc:  # a mistyped month: the default period, and say so
        figures = _figures(request, session, db, settings, clock, "", "", kiosk_months=False)
        error = exc.detail
    defs = {d.key: d for d in fig.FIGURE_DEFS}
    months = list(figures.county_by_month)
    charts = [rate_chart(f"chart-{key}", defs[key].name, months,
                         [t.rates()[key] for t in figures.county_by_month.values()], defs[key].target)
              for key in CHARTED]
    measured = {"full_online_items": figures.full_online_rate, "mobile_items": figures.mobile_items_rate,
                **figures.county_total.rates()}
    query = f"first={figures.period.first}&last={figures.period.last}"
    scores = sorted(fig.SCORE_LABELS, reverse=True)
    return render(request, "figures.html", session, figures=figures, defs=fig.FIGURE_DEFS, measured=measured,
                  charts=charts, percent=percent, query=query, error=error, scores=scores,
                  score_labels=fig.SCORE_LABELS, ecert_note=fig.ECERT_NOT_RECORDED,
                  kiosk_rows=_kiosk_rows(figures),
                  rating_rows={"item": _rating_rows(figures.ratings_by_item, scores),
                               "kiosk": _rating_rows(figures.ratings_by_kiosk, scores)},
                  department=request.app.state.catalog.departments.get(session.scope.department))


# The two long tables (a row per kiosk, twice) as plain tuples of text made here: a template
# that looked up and formatted each cell itself took a third of the page's time with 200 kiosks.


def _kiosk_rows(figures: fig.Figures) -> list[tuple]:
    rows = []
    for device_id, name in figures.kiosks.items():
        tally = figures.kiosk_total[device_id]
        rates = tally.rates()
        rows.append((device_id, name, tally.kiosk, tally.finished_online, percent(rates["finished_rate"]),
                     percent(rates["le1_rate"]), percent(rates["zero_rate"])))
    return rows


def _rating_rows(found: list[fig.RatingRow], scores: list[int]) -> list[tuple[str, int, Markup]]:
    """(label, count, the score cells as markup: numbers and fixed class names only)."""
    return [(row.label, row.count,
             Markup("".join(f'<td class="score-{s}">{percent(row.share_of(s))}</td>' for s in scores)))
            for row in found]


def _download(body: bytes, media_type: str, figures: fig.Figures, ext: str) -> Response:
    name = f"figures-{figures.county}-{figures.period.first}-{figures.period.last}.{ext}"
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/figures.csv")
def figures_csv(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, clock: ClockDep,
                first: str = "", last: str = "") -> Response:
    figures = _figures(request, session, db, settings, clock, first, last)
    return _download(to_csv(figures), "text/csv; charset=utf-8", figures, "csv")


@router.get("/figures.xlsx")
def figures_xlsx(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, clock: ClockDep,
                 first: str = "", last: str = "") -> Response:
    figures = _figures(request, session, db, settings, clock, first, last)
    return _download(to_xlsx(figures), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     figures, "xlsx")


def _counter_page(request: Request, session, db, error: str = "", status_code: int = 200,
                  form: dict | None = None) -> HTMLResponse:
    scope = session.scope
    scope.require(scope.sees_applications)
    catalog = request.app.state.catalog
    items = [i for i in catalog.catalog.items() if scope.role != "clerk" or i.code in scope.item_codes]
    return render(request, "counter.html", session, items=items, channels=fig.CHANNELS,
                  entries=fig.recent_counter_entries(db, scope), error=error, form=form or {},
                  status_code=status_code)


@router.get("/counter-applications")
def counter_page(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    return _counter_page(request, session, db)


@router.post("/counter-applications")
def record_counter(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, clock: ClockDep,
                   csrf: FormStr = "", service_code: FormStr = "", day: FormStr = "", channel: FormStr = "",
                   count: FormStr = "") -> Response:
    session.check_csrf(csrf)
    form = {"service_code": service_code[:64], "day": day[:20], "channel": channel[:16], "count": count[:12]}
    try:
        fig.record_counter(db, session.scope, request.app.state.catalog, service_code, day[:20], channel,
                           count[:12], actor=f"console:{session.username}",
                           utc_offset_hours=settings.utc_offset_hours, clock=clock)
    except InvalidRequest as exc:
        db.rollback()
        return _counter_page(request, session, db, exc.detail, 422, form)  # what was typed stays
    return RedirectResponse("/console/counter-applications", status_code=303)
