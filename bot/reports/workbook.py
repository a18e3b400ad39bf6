"""XLSX workbooks (openpyxl) from plain rows: bold frozen headers, widths that fit Chinese text."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

MAX_CELL = 32_000  # Excel's cell limit is 32,767 characters
MAX_WIDTH = 60


@dataclass
class Sheet:
    title: str  # ≤ 31 characters, no []:*?/\
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""  # a line above the table (team, period)


def _display_width(value: Any) -> int:
    text = str(value) if value is not None else ""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones: callers pass local times
    if isinstance(value, str):
        clean = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")
        if clean[:1] in ("=", "+", "-", "@"):
            clean = "'" + clean  # never let a customer name become a formula
        return clean[:MAX_CELL]
    return value


def build_xlsx(sheets: list[Sheet]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for sheet in sheets:
        title = "".join(ch for ch in sheet.title if ch not in "[]:*?/\\")[:31] or "Sheet"
        ws = wb.create_sheet(title)
        start = 1
        if sheet.note:
            ws.cell(row=1, column=1, value=_cell(sheet.note)).font = Font(bold=True, size=12)
            start = 3
        for col, header in enumerate(sheet.headers, 1):
            cell = ws.cell(row=start, column=col, value=header)
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for r, row in enumerate(sheet.rows, start + 1):
            for col, value in enumerate(row, 1):
                cell = ws.cell(row=r, column=col, value=_cell(value))
                if isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(value, str) and len(value) > MAX_WIDTH:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        for col, header in enumerate(sheet.headers, 1):
            values = [header, *(row[col - 1] for row in sheet.rows if col - 1 < len(row))]
            width = max(_display_width(v if not isinstance(v, datetime) else "2026-01-01 00:00") for v in values)
            ws.column_dimensions[get_column_letter(col)].width = min(MAX_WIDTH, max(8, width + 2))
        ws.freeze_panes = ws.cell(row=start + 1, column=1)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
