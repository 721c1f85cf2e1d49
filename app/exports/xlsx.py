"""A streaming .xlsx writer for the exports: openpyxl's write-only mode, one row at a time.

Memory stays flat however many rows come: openpyxl streams each row to a temporary sheet file
and zips it on save. What write-only mode leaves to us:

- column widths must be set before the first row is written, so the first SAMPLE_ROWS rows
  are buffered, the columns sized from the header and those values, and then everything is
  written and the rest streamed;
- formula injection: openpyxl turns a string beginning with "=" into a formula, and Excel
  offers "+1+2", "-1+2" or "@SUM(...)" as formulas once a cell is edited. A value beginning
  with one of RISKY_STARTS becomes an explicit text cell with Excel's quote prefix, so it is
  shown, kept and re-saved as the text it is. "#" is included: openpyxl writes "#N/A" as an
  error value, not the enterprise name it was;
- characters XML cannot carry (most control characters) make openpyxl refuse the whole
  row; they are dropped from the cell instead, so one odd name never fails an export.

The hot path (measured by bench/bench_export.py against bare openpyxl) passes ordinary rows
to ``append`` as the plain tuples they are and checks only the columns declared as text;
dates and datetimes go in as Python values, so Excel gets real dates in openpyxl's default
formats (yyyy-mm-dd, yyyy-mm-dd h:mm:ss). lxml (in requirements) makes openpyxl's writing
about 20% faster here (5.4 s against 6.8 s for 100,000 rows of six columns).
"""

import datetime
import itertools
import unicodedata
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TEXT = "text"  # str or None: the only kind checked for injection and odd characters
LABEL = "label"  # text of our own (translated labels): written as it is
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
# A stored "first day no longer covered" shown as the last day covered, the one definition of
# app/orders/rules.last_day_of_service (done here so the lean writer needs no app import).
LAST_DAY = "last_day"

RISKY_STARTS = "=+-@\t\r#"
SAMPLE_ROWS = 500  # rows buffered to size the columns before the first one is written
MIN_WIDTH = 6
# Widths of the date kinds in openpyxl's default formats, plus a little air.
_FIXED_WIDTHS = {DATE: 12, DATETIME: 20, LAST_DAY: 12}


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    max_width: int = 50  # a longer value runs past the column edge rather than widening it


# How a query row's value of a date kind, read as ISO text, becomes the value the sheet shows
# (reading dates as text is cheaper: app/orders/exports.py).
_PARSERS = {
    DATE: datetime.date.fromisoformat,
    DATETIME: datetime.datetime.fromisoformat,
    LAST_DAY: lambda text: datetime.date.fromisoformat(text) - datetime.timedelta(days=1),
}


def row_converter(columns):
    """A function from a query row (one value per column; dates as ISO text) to the sheet row:
    dates become date and datetime values, everything else is kept. The same in the app and
    in the lean writer process (app/exports/writer.py), which gets only the columns."""
    parsers = [(i, _PARSERS[c.kind]) for i, c in enumerate(columns) if c.kind in _PARSERS]
    if not parsers:
        return tuple

    def convert(row):
        row = list(row)
        for i, parse in parsers:
            value = row[i]
            if value is not None:
                row[i] = parse(value)
        return row

    return convert


def write_xlsx(target, columns, rows, progress=None, progress_every=5000, title=None):
    """Write ``rows`` (tuples, one value per column) as a one-sheet workbook to ``target``
    (a path or a binary file); returns the number of rows written.

    ``progress(rows_written)`` is called every ``progress_every`` rows and once at the end.
    ``rows`` is consumed once, lazily: pass a generator over a streaming query.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    rows = iter(rows)
    sample = list(itertools.islice(rows, SAMPLE_ROWS))
    for index, width in enumerate(column_widths(columns, sample), 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"  # the header stays in view while scrolling
    try:
        sheet.append([_header_cell(sheet, column.header) for column in columns])
        written = _append_rows(sheet, columns, itertools.chain(sample, rows), progress,
                               progress_every)
        workbook.save(target)
    except BaseException:
        _discard(sheet)
        raise
    return written


def _discard(sheet):
    """Remove the sheet's temporary file: openpyxl deletes it after a save, or at exit,
    which for a scheduler process is weeks of disk away."""
    writer = sheet._writer
    if writer is None:
        return
    # Close openpyxl's half-run XML generators here, where their complaints about the
    # unfinished elements are expected, rather than in the garbage collector.
    for generator in (sheet._rows, writer.xf):
        if generator is not None:
            try:
                generator.close()
            except Exception:  # the file is being thrown away anyway
                pass
    try:
        writer.cleanup()
    except (OSError, ValueError):  # already gone
        pass


def _append_rows(sheet, columns, rows, progress, every):
    append = sheet.append
    text_indexes = tuple(i for i, column in enumerate(columns) if column.kind == TEXT)
    written = 0
    next_report = every
    for row in rows:
        for i in text_indexes:
            value = row[i]
            # isprintable() is false for every character XML cannot carry, and 3x cheaper
            # than openpyxl's regex; the rare false alarm only takes the careful path.
            if value and (value[0] in RISKY_STARTS or not value.isprintable()):
                row = _with_text_cells(sheet, row, text_indexes)
                break
        append(row)
        written += 1
        if written == next_report:
            next_report += every
            if progress is not None:
                progress(written)
    if progress is not None:
        progress(written)
    return written


def _with_text_cells(sheet, row, text_indexes):
    """The row with each risky text value replaced by an explicit, quote-prefixed text cell
    (the rare path: most rows never come here)."""
    row = list(row)
    for i in text_indexes:
        value = row[i]
        if not value:
            continue
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value[:1] and value[0] in RISKY_STARTS:
            cell = WriteOnlyCell(sheet)
            cell.value = value  # may set the type to formula or error: overruled below
            cell.data_type = "s"
            cell.quotePrefix = True
            value = cell
        row[i] = value
    return row


def _header_cell(sheet, header):
    cell = WriteOnlyCell(sheet, value=str(header))
    cell.font = Font(bold=True)
    return cell


def column_widths(columns, sample):
    """Widths in Excel's character units fitting each header and the sampled values."""
    widths = []
    for i, column in enumerate(columns):
        width = display_width(str(column.header))
        fixed = _FIXED_WIDTHS.get(column.kind)
        if fixed is not None:
            width = max(width, fixed)
        else:
            for row in sample:
                value = row[i]
                if value is not None:
                    width = max(width, display_width(str(value)))
        widths.append(max(MIN_WIDTH, min(column.max_width, width + 2)))
    return widths


def display_width(text):
    """Characters as Excel lays them out: East Asian wide characters take two columns."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
