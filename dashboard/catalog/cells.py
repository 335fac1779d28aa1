"""Parse one spreadsheet cell: text, numbers, money, stock, dates, EAN, flags.

Numbers follow one rule per file, never guessed per cell: a Brazilian file
writes ``1.299,90`` (dot groups thousands, comma separates decimals), a plain
one ``1299.90`` or ``1,299.90``. The file's format is the one most of its
unambiguous number cells use. XLSX numeric cells are numbers already.
"""

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

BRAZILIAN = re.compile(r"^-?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d+)?$")
PLAIN = re.compile(r"^-?(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)(?:\.\d+)?$")
CENT = Decimal("0.01")
# Upper bounds far above any real product and well inside the SQLite integer
# columns (amounts in cents, weight in grams, sizes in millimetres), which a
# bigger number overflows.
MAX_MONEY = Decimal("99999999.99")
MAX_STOCK = 1_000_000_000
MAX_MEASURE = 1_000_000  # kg or cm, as the file writes them
GTIN_LENGTHS = (8, 12, 13, 14)
TRUE_WORDS = {"1", "sim", "s", "true", "verdadeiro", "ativo", "yes", "y", "x"}
FALSE_WORDS = {"0", "não", "nao", "n", "false", "falso", "inativo", "no"}


class CellError(ValueError):
    """A cell that cannot be read; the message is in pt-BR."""


class NumberFormatError(CellError):
    """A text that is no number in the format it was read with.

    The message does not name the format: only the caller knows whether it
    came from a file or was chosen for one field.
    """

    def __init__(self, value: Any, brazilian: bool) -> None:
        self.value = value if isinstance(value, str) else text(value)
        super().__init__(f"número inválido: {self.value!r}")
        other = PLAIN if brazilian else BRAZILIAN
        self.other_format = bool(other.match(_clean(self.value)))


def text(value: Any) -> str:
    """Return a cell as trimmed text (a whole number loses its ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def uses_decimal_comma(values: Iterable[Any]) -> bool:
    """Tell whether a file writes decimals with a comma (Brazilian format).

    Each text cell that is a number in one format only (``29,90``, ``0.350``)
    is a vote; ``1.200`` or ``30`` fit both and do not count. The majority
    wins, so one odd cell cannot turn the file; a tie goes to the Brazilian
    format as soon as one cell uses it, as a Brazilian Excel writes numbers.
    """
    votes = Counter(_only_format(value) for value in values if isinstance(value, str))
    return votes[True] > 0 and votes[True] >= votes[False]


def _only_format(value: str) -> bool | None:
    """Return True for Brazilian only, False for plain only, else None."""
    cleaned = _clean(value)
    brazilian = bool(BRAZILIAN.match(cleaned))
    if brazilian == bool(PLAIN.match(cleaned)):
        return None
    return brazilian


def _clean(value: str) -> str:
    cleaned = value.strip().replace("\xa0", "").replace(" ", "")
    if cleaned.upper().startswith("R$"):
        cleaned = cleaned[2:]
    return cleaned


def number(value: Any, brazilian: bool) -> Decimal | None:
    """Return a number, or None for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError("valor inválido: esperado um número")
    if isinstance(value, int | float):
        return _decimal(str(value))

    cleaned = _clean(str(value))
    if not (BRAZILIAN if brazilian else PLAIN).match(cleaned):
        raise NumberFormatError(value, brazilian)
    if brazilian:
        return _decimal(cleaned.replace(".", "").replace(",", "."))
    return _decimal(cleaned.replace(",", ""))


def _decimal(text_value: str) -> Decimal:
    try:
        result = Decimal(text_value)
    except InvalidOperation:
        raise CellError(f"número inválido: {text_value!r}") from None
    if not result.is_finite():
        raise CellError(f"número inválido: {text_value!r}")
    return result


def money(value: Any, brazilian: bool) -> Decimal | None:
    """Return an amount with 2 places (> 0), or None for an empty cell."""
    amount = number(value, brazilian)
    if amount is None:
        return None
    if amount <= 0:
        raise CellError("o valor deve ser maior que zero")
    if amount > MAX_MONEY:
        raise CellError(f"valor acima do máximo de {_brazilian(MAX_MONEY)}")
    if amount != amount.quantize(CENT):
        raise CellError("use no máximo 2 casas decimais")
    return amount.quantize(CENT)


def stock(value: Any, brazilian: bool) -> int | None:
    """Return a stock (whole number >= 0), or None for an empty cell."""
    amount = number(value, brazilian)
    if amount is None:
        return None
    if amount < 0:
        raise CellError("o estoque não pode ser negativo")
    if amount > MAX_STOCK:
        raise CellError(f"estoque acima do máximo de {_brazilian(MAX_STOCK)}")
    if amount != amount.to_integral_value():
        raise CellError("o estoque deve ser um número inteiro")
    return int(amount)


def scaled(value: Any, brazilian: bool, factor: int) -> int | None:
    """Return a measure (>= 0) in a smaller whole unit, e.g. kg -> g."""
    amount = number(value, brazilian)
    if amount is None:
        return None
    if amount < 0:
        raise CellError("a medida não pode ser negativa")
    if amount > MAX_MEASURE:
        raise CellError(f"medida acima do máximo de {_brazilian(MAX_MEASURE)}")
    return int((amount * factor).to_integral_value())


def _brazilian(amount: Decimal | int) -> str:
    """Write a limit the Brazilian way: 1.000.000 or 99.999.999,99."""
    written = f"{amount:,}".replace(",", "\0").replace(".", ",")
    return written.replace("\0", ".")


def day(value: Any) -> date | None:
    """Return a date written YYYY-MM-DD or DD/MM/YYYY (or an Excel date)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    raise CellError(f"data inválida: {raw!r} (use AAAA-MM-DD ou DD/MM/AAAA)")


def ean(value: Any) -> str:
    """Return a GTIN (EAN-8/UPC-12/EAN-13/GTIN-14) as text, check digit verified."""
    code = text(value)
    if not code:
        return ""
    if not code.isdigit() or len(code) not in GTIN_LENGTHS:
        raise CellError(f"EAN inválido: {code!r} (use 8, 12, 13 ou 14 dígitos)")
    if gtin_check_digit(code[:-1]) != int(code[-1]):
        raise CellError(f"EAN inválido: {code!r} (dígito verificador não confere)")
    return code


def gtin_check_digit(body: str) -> int:
    """Return the GTIN check digit for the digits before it."""
    total = sum(
        int(digit) * (3 if index % 2 == 0 else 1)
        for index, digit in enumerate(reversed(body))
    )
    return (10 - total % 10) % 10


def flag(value: Any) -> bool:
    """Return an active flag; an empty cell means active."""
    if isinstance(value, bool):
        return value
    word = text(value).lower()
    if not word or word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"valor inválido: {word!r} (use sim ou não)")


def url(value: Any) -> str:
    """Return an http(s) address."""
    address = text(value)
    if not address.lower().startswith(("http://", "https://")) or " " in address:
        raise CellError(f"endereço de imagem inválido: {address!r} (use https://...)")
    return address
