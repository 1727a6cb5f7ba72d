"""Drempel signals over HTTP: `/api/signals` as JSON, CSV or XLSX (an oogstnota table).

The ranking and counts come from `kg.signals` through the facade; computing them reads the
store, so the endpoint is a plain `def` and runs in the thread pool.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import KnowledgeBaseDep
from api.error_handlers import error_responses
from kg.signals import SIGNAL_COLUMNS, Signal, SignalFilters, signal_rows

router = APIRouter(prefix="/api", tags=["signals"])
FORMATS = ("json", "csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Werf = Annotated[str, Query(max_length=40, description="Only drempels of this LEKP werf "
                                                        "(`werf-2`).")]
Theme = Annotated[str, Query(max_length=80, description="Only drempels with this theme "
                                                         "(notation, e.g. `renovatie`).")]
Level = Annotated[str, Query(max_length=40, description="Only drempels of this beleidsniveau "
                                                        "(`lokaal` ... `europees`).")]
Province = Annotated[str, Query(max_length=10, description="Count only evidence located in "
                                                            "this province (NIS code, `70000`).")]


class Signals(BaseModel):
    """The drempel signals and the filters they reflect."""

    filters: dict[str, str]
    count: int
    signals: list[Signal]


def filters_of(werf: str, theme: str, level: str, province: str) -> SignalFilters:
    """The filters from request parameters (stripped)."""
    return SignalFilters(werf=werf.strip(), theme=theme.strip(), level=level.strip(),
                         province=province.strip())


def as_csv(signals: list[Signal]) -> str:
    """The signals as CSV (comma-separated, a header row, UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SIGNAL_COLUMNS)
    writer.writerows(signal_rows(signals))
    return out.getvalue()


def as_xlsx(signals: list[Signal]) -> bytes:
    """The signals as an XLSX workbook: one sheet "Drempelsignalen", a bold header row,
    frozen, with an auto-filter."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Drempelsignalen"
    sheet.append(list(SIGNAL_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in signal_rows(signals):
        sheet.append(row)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    sheet.column_dimensions["A"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get(
    "/signals",
    response_model=Signals,
    summary="Drempels ranked by how widely they recur",
    responses={**error_responses(400, 422), 200: {"content": {
        "text/csv": {}, XLSX_TYPE: {}}, "description": "JSON, CSV or XLSX (`format`)."}},
)
def signals(kb: KnowledgeBaseDep, werf: Werf = "", theme: Theme = "", level: Level = "",
            province: Province = "",
            format: Annotated[str, Query(pattern="^(json|csv|xlsx)$",
                                         description="json, csv or xlsx.")] = "json",
            ) -> Signals | Response:
    """Every drempel with the distinct municipalities and wijken of its evidence (the drempel
    and the lessons, measures and breakthroughs linked to it), its lessons, linked items,
    activities and breakthroughs, its first and last date, linked items per year, and its
    status: *overwonnen* (breakthroughs in two or more municipalities), *deels* (one), *open*;
    its beleidsniveau and the curators' priority flag.
    Most widely recurring first. Unknown filter values answer 400 with the known ones."""
    found = kb.signals(filters_of(werf, theme, level, province))
    if format == "csv":
        return Response(as_csv(found), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="drempelsignalen.csv"'})
    if format == "xlsx":
        return Response(as_xlsx(found), media_type=XLSX_TYPE, headers={
            "Content-Disposition": 'attachment; filename="drempelsignalen.xlsx"'})
    chosen = {"werf": werf.strip(), "theme": theme.strip(), "level": level.strip(),
              "province": province.strip()}
    return Signals(filters={k: v for k, v in chosen.items() if v}, count=len(found),
                   signals=found)
