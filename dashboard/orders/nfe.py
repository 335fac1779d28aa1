"""NF-e: access key checks, invoice validation and reading the NF-e XML.

The 44-digit access key holds, by position (1-based): UF 1-2, year and month
3-6, CNPJ 7-20, model 21-22, series 23-25, number 26-34, emission type 35,
random code 36-43 and a mod-11 check digit at 44.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from dashboard.orders.dates import STORE_TIMEZONE

KEY_LENGTH = 44
MAX_XML_BYTES = 2 * 1024 * 1024
CLOCK_SKEW = timedelta(minutes=5)
MAX_LINK = 500

_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
)


class NfeXmlError(ValueError):
    """An NF-e XML that cannot be read; the message is pt-BR."""


@dataclass(frozen=True)
class Invoice:
    """A validated NF-e as the store keeps and sends it."""

    key: str
    number: str
    series: str
    issued_at: datetime
    link: str | None = None

    def desired(self) -> dict:
        """Return the JSON value staged for the push."""
        return {
            "key": self.key,
            "number": self.number,
            "series": self.series,
            "issued_at": self.issued_at.astimezone(UTC).isoformat(),
            "link": self.link,
        }

    @classmethod
    def from_desired(cls, value: dict) -> "Invoice":
        """Rebuild an invoice from its staged value."""
        return cls(
            key=value["key"],
            number=value["number"],
            series=value["series"],
            issued_at=datetime.fromisoformat(value["issued_at"]),
            link=value.get("link") or None,
        )


@dataclass(frozen=True)
class XmlFields:
    """What an NF-e XML tells about the invoice, as form texts."""

    key: str
    number: str
    series: str
    issued_at: datetime | None


# Access key ----------------------------------------------------------------


def clean_key(text: str | None) -> str:
    """Remove the spaces and dots people type or paste inside a key."""
    return re.sub(r"[\s.]", "", text or "")


def only_ascii_digits(text: str) -> bool:
    """Tell whether a text is made only of the digits 0-9.

    ``str.isdigit`` also accepts superscripts and other scripts' digits,
    which ``int`` then refuses or silently converts.
    """
    return re.fullmatch(r"[0-9]+", text) is not None


def check_digit(first_43: str) -> int:
    """Return the mod-11 check digit of the first 43 digits of a key."""
    total = 0
    weight = 2
    for digit in reversed(first_43):
        total += int(digit) * weight
        weight = 2 if weight == 9 else weight + 1
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def key_error(key: str) -> str | None:
    """Return why a cleaned key is invalid, in pt-BR, or None."""
    if not key:
        return "Informe a chave de acesso da NF-e."
    if not only_ascii_digits(key):
        return "A chave deve ter só números (44 dígitos)."
    if len(key) != KEY_LENGTH:
        return f"A chave deve ter 44 dígitos; esta tem {len(key)}."
    if check_digit(key[:43]) != int(key[43]):
        return "Chave inválida: o dígito verificador não confere. Confira a digitação."
    return None


def key_series(key: str) -> str:
    """Return the series written in a key, without leading zeros."""
    return str(int(key[22:25]))


def key_number(key: str) -> str:
    """Return the invoice number written in a key, without leading zeros."""
    return str(int(key[25:34]))


BRAZIL_OFFSETS = (-2, -3, -4, -5)  # hours from UTC: Noronha to Acre


def _month_at(moment: datetime, hours: int) -> str:
    local = moment.astimezone(timezone(timedelta(hours=hours)))
    return f"{local.month:02d}/{local.year}"


def key_month(key: str) -> str:
    """Return the issue month written in a key, as ``mm/aaaa``."""
    return f"{key[4:6]}/20{key[2:4]}"


# Fields --------------------------------------------------------------------


def _digits_field(text: str | None, size: int, name: str) -> tuple[str | None, str]:
    value = (text or "").strip()
    if not value:
        return None, f"Informe {name} da NF-e."
    if not only_ascii_digits(value) or len(value) > size:
        return None, f"Use só números, até {size} dígitos."
    return str(int(value)), ""


def parse_issue_date(value: str | datetime | None) -> datetime:
    """Return an issue date in UTC; texts without offset are São Paulo time."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = _parse_date_text((value or "").strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STORE_TIMEZONE)
    return moment.astimezone(UTC)


def _parse_date_text(text: str) -> datetime:
    if not text:
        raise ValueError("Informe a data de emissão.")
    for pattern in _DATE_FORMATS:
        try:
            return datetime.combine(datetime.strptime(text, pattern).date(), time())
        except ValueError:
            pass
    for pattern in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("Data inválida. Use dd/mm/aaaa ou dd/mm/aaaa hh:mm.") from None


def _date_error(
    text: str | datetime | None, now: datetime
) -> tuple[datetime | None, str]:
    try:
        issued_at = parse_issue_date(text)
    except ValueError as error:
        return None, str(error)
    if issued_at > now + CLOCK_SKEW:
        return None, "A data de emissão não pode estar no futuro."
    return issued_at, ""


def link_error(link: str) -> str:
    """Return why an optional link is unusable, or an empty string."""
    if not link:
        return ""
    if not re.match(r"^https?://[^\s/]+\S*$", link):
        return "Informe um endereço completo, começando com https://."
    if len(link) > MAX_LINK:
        return f"Endereço longo demais (máximo {MAX_LINK} caracteres)."
    return ""


def validate_invoice(
    *,
    key: str | None,
    number: str | None,
    series: str | None,
    issued_at: str | datetime | None,
    link: str | None = None,
    now: datetime,
) -> tuple[Invoice | None, dict[str, str]]:
    """Check an invoice before anything is sent; return it or pt-BR errors."""
    errors: dict[str, str] = {}
    clean = clean_key(key)
    problem = key_error(clean)
    if problem:
        errors["key"] = problem
    number_value, errors["number"] = _digits_field(number, 9, "o número")
    series_value, errors["series"] = _digits_field(series, 3, "a série")
    issued, errors["issued_at"] = _date_error(issued_at, now)
    link_value = (link or "").strip()
    errors["link"] = link_error(link_value)

    if not problem:
        _cross_check(clean, number_value, series_value, errors)
        if issued is not None:
            errors["issued_at"] = _month_error(clean, issued)
    errors = {name: message for name, message in errors.items() if message}
    if errors:
        return None, errors
    return Invoice(clean, number_value, series_value, issued, link_value or None), {}


def _cross_check(
    key: str, number: str | None, series: str | None, errors: dict
) -> None:
    if number is not None and number != key_number(key):
        errors["number"] = (
            f"Não confere com a chave, que indica o número {key_number(key)}."
        )
    if series is not None and series != key_series(key):
        errors["series"] = (
            f"Não confere com a chave, que indica a série {key_series(key)}."
        )


def _month_error(key: str, issued_at: datetime) -> str:
    # The date is typed in Brasília time and kept in UTC; comparing in UTC
    # would move an evening issue on a month's last day into the next month.
    # The key carries the month on the issuer's clock, which may be any of
    # Brazil's zones (UTC-2 to UTC-5): any of them matching is enough.
    local = issued_at.astimezone(STORE_TIMEZONE)
    typed = f"{local.month:02d}/{local.year}"
    if key_month(key) in {_month_at(issued_at, hours) for hours in BRAZIL_OFFSETS}:
        return ""
    return (
        f"A chave indica emissão em {key_month(key)}, mas a data informada é {typed}."
    )


# XML -----------------------------------------------------------------------


def read_xml(data: bytes) -> XmlFields:
    """Read key, number, series and issue date from an NF-e XML."""
    if not data or not data.strip():
        raise NfeXmlError("O arquivo XML está vazio.")
    if len(data) > MAX_XML_BYTES:
        raise NfeXmlError("O arquivo XML é grande demais para uma NF-e.")
    try:
        root = fromstring(data)
    except (ParseError, DefusedXmlException, ValueError):
        raise NfeXmlError("O arquivo não é um XML de NF-e válido.") from None

    info = root if _local(root.tag) == "infNFe" else root.find(".//{*}infNFe")
    if info is None:
        raise NfeXmlError("O XML não contém uma NF-e (infNFe não encontrado).")
    ide = info.find("{*}ide")
    key = _xml_key(root, info)
    if ide is None or not key:
        raise NfeXmlError("O XML da NF-e está incompleto (chave ou identificação).")
    return XmlFields(
        key=key,
        number=_child_text(ide, "nNF"),
        series=_child_text(ide, "serie"),
        issued_at=_xml_date(_child_text(ide, "dhEmi") or _child_text(ide, "dEmi")),
    )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child_text(parent: Element, name: str) -> str:
    child = parent.find("{*}" + name)
    return (child.text or "").strip() if child is not None else ""


def _xml_key(root: Element, info: Element) -> str:
    identifier = (info.get("Id") or "").strip()
    if identifier.startswith("NFe"):
        return identifier[3:]
    protocol_key = root.find(".//{*}protNFe/{*}infProt/{*}chNFe")
    if protocol_key is not None and protocol_key.text:
        return protocol_key.text.strip()
    return ""


def _xml_date(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_issue_date(text)
    except ValueError:
        return None
