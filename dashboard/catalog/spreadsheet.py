"""Read and write catalog spreadsheets: CSV (``,`` or ``;``) and XLSX.

Reading streams the rows (a file can be read more than once) so a 50,000-row
catalog never sits whole in memory. CSV may come from Brazilian Excel: with
``;``, with or without a BOM, in UTF-8 or Windows Latin-1. Anything that is
not a readable spreadsheet (binary data, a damaged workbook) is a SheetError,
at open time or while the rows stream.
"""

import codecs
import csv
import logging
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

logger = logging.getLogger(__name__)

FORMATS = (".csv", ".xlsx")
DELIMITERS = (";", ",", "\t")
SAMPLE_BYTES = 1 << 16
# Excel cells beyond this length are cut by Excel itself; keep ours intact.
CSV_FIELD_LIMIT = 1 << 24
# Control bytes other than tab and line breaks. A few come pasted from Word or
# PowerPoint into a description; binary data has one byte in ten like this.
CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 13}) + b"\x7f"
MAX_CONTROL_SHARE = 20  # at most 1 byte in 20
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
BINARY = "O arquivo não é uma planilha CSV ou XLSX válida (conteúdo binário)."
UTF16 = (
    "O arquivo está em UTF-16 (Texto Unicode): salve a planilha como CSV UTF-8 "
    "ou envie o arquivo .xlsx."
)
UNREADABLE_XLSX = (
    "Não foi possível ler a planilha .xlsx (arquivo corrompido ou de outro formato)."
)


class SheetError(ValueError):
    """A file that cannot be read as a spreadsheet; the message is in pt-BR."""


@dataclass(frozen=True)
class Sheet:
    """An opened spreadsheet: its header and a way to stream its rows."""

    path: Path
    kind: str  # "csv" | "xlsx"
    header: list[str]
    encoding: str = ""
    delimiter: str = ""

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """Yield (row number as Excel shows it, cells) after the header."""
        if self.kind == "csv":
            yield from _csv_rows(self.path, self.encoding, self.delimiter)
        else:
            yield from _xlsx_rows(self.path)


def format_of(name: str) -> str:
    """Return "csv" or "xlsx" for a file name, or raise SheetError."""
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise SheetError("Formato não suportado: envie um arquivo .csv ou .xlsx.")
    return suffix[1:]


def open_sheet(path: Path, name: str | None = None) -> Sheet:
    """Open a CSV or XLSX file and read its header."""
    kind = format_of(name or path.name)
    if kind == "csv":
        return _open_csv(path)
    return _open_xlsx(path)


# CSV ----------------------------------------------------------------------------


def _open_csv(path: Path) -> Sheet:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, errors=_errors(encoding), newline="") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise SheetError("O arquivo está vazio ou a primeira linha não tem colunas.")

    delimiter = max(DELIMITERS, key=first_line.count)
    header = next(csv.reader([first_line], delimiter=delimiter))
    return Sheet(path, "csv", normalize_header(header), encoding, delimiter)


def detect_encoding(path: Path) -> str:
    """Return "utf-8-sig" when the whole file is UTF-8, else "cp1252".

    Raise SheetError when the bytes are not text at all.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    size = control = 0
    with path.open("rb") as handle:
        while chunk := handle.read(SAMPLE_BYTES):
            if not size and chunk.startswith(UTF16_BOMS):
                raise SheetError(UTF16)
            if b"\x00" in chunk:
                raise SheetError(BINARY)
            size += len(chunk)
            control += len(chunk) - len(chunk.translate(None, CONTROL_BYTES))
            utf8 = utf8 and _decodes(decoder, chunk)

    if control * MAX_CONTROL_SHARE > size:
        raise SheetError(BINARY)
    return "utf-8-sig" if utf8 and _decodes(decoder, b"", final=True) else "cp1252"


def _decodes(decoder, chunk: bytes, final: bool = False) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def _errors(encoding: str) -> str:
    # cp1252 leaves five bytes undefined; never fail on them.
    return "replace" if encoding == "cp1252" else "strict"


def _csv_rows(path: Path, encoding: str, delimiter: str):
    csv.field_size_limit(CSV_FIELD_LIMIT)
    with path.open(encoding=encoding, errors=_errors(encoding), newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            next(reader, None)
            # Excel numbers records, not lines: a quoted cell may span lines.
            yield from enumerate(reader, start=2)
        except csv.Error as error:
            raise SheetError(
                f"Não foi possível ler o arquivo CSV na linha {reader.line_num}: "
                "o conteúdo não é uma planilha válida."
            ) from error


# XLSX ---------------------------------------------------------------------------


@contextmanager
def _first_sheet(path: Path):
    """Open a workbook's first sheet; any failure to read it is a SheetError."""
    workbook = None
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles it does not know; they do not matter.
            warnings.simplefilter("ignore")
            workbook = load_workbook(path, read_only=True, data_only=True)
        yield workbook.worksheets[0]
    except Exception as error:
        # A damaged file fails deep inside openpyxl with zip, zlib, XML, index
        # or value errors, when opened or only when a row is reached; to the
        # merchant they all mean the same thing.
        logger.warning("Unreadable XLSX file %s: %.200r", path.name, error)
        raise SheetError(UNREADABLE_XLSX) from error
    finally:
        if workbook is not None:
            workbook.close()


def _open_xlsx(path: Path) -> Sheet:
    with _first_sheet(path) as sheet:
        header = next(sheet.iter_rows(max_row=1, values_only=True), None)

    if not header or not any(cell not in (None, "") for cell in header):
        raise SheetError("A planilha está vazia ou a primeira linha não tem colunas.")
    return Sheet(path, "xlsx", normalize_header(header))


def _xlsx_rows(path: Path):
    with _first_sheet(path) as sheet:
        rows = sheet.iter_rows(min_row=2, values_only=True)
        for number, cells in enumerate(rows, start=2):
            yield number, list(cells)


def normalize_header(cells: Iterable[Any]) -> list[str]:
    """Return column names trimmed and in lower case."""
    names = []
    for cell in cells:
        text = "" if cell is None else str(cell)
        names.append(text.replace("\ufeff", "").strip().lower())
    while names and not names[-1]:
        names.pop()
    return names


# Writing ------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    """Write a CSV as Brazilian Excel reads it: ``;``, decimal comma, UTF-8 BOM."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_cell(cell) for cell in row])


def _csv_cell(cell: Any) -> Any:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        # No thousands separator: "1299,90" reads back the same everywhere.
        return format(cell, "f").replace(".", ",")
    return cell


def write_xlsx(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    """Write an XLSX with one sheet, streaming the rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Produtos")
    sheet.append(header)
    for row in rows:
        sheet.append(row)  # numbers stay numbers: Excel sums and formats them
    workbook.save(path)
