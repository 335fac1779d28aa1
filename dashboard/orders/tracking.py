"""Tracking data: validation, and the Correios URL for Correios codes."""

import re
from dataclasses import dataclass
from datetime import date, datetime

from dashboard.orders.dates import local_day
from dashboard.orders.nfe import link_error

CORREIOS = "Correios"
# ASCII classes: \d would also take other scripts' digits.
CORREIOS_CODE = re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}")
CORREIOS_URL = "https://rastreamento.correios.com.br/app/index.php?objetos={code}"
MAX_TEXT = 100
CORREIOS_CODE_ERROR = (
    "Código dos Correios inválido: use 2 letras, 9 números e 2 letras, "
    "como AA123456789BR."
)


@dataclass(frozen=True)
class Tracking:
    """A validated shipment: carrier, code, link and ship date."""

    carrier: str
    code: str
    method: str | None
    url: str | None
    shipped_on: date

    def desired(self) -> dict:
        """Return the JSON value staged for the push."""
        return {
            "carrier": self.carrier,
            "code": self.code,
            "method": self.method,
            "url": self.url,
            "shipped_on": self.shipped_on.isoformat(),
        }

    @classmethod
    def from_desired(cls, value: dict) -> "Tracking":
        """Rebuild tracking data from its staged value."""
        return cls(
            carrier=value["carrier"],
            code=value["code"],
            method=value.get("method") or None,
            url=value.get("url") or None,
            shipped_on=date.fromisoformat(value["shipped_on"]),
        )


def is_correios_code(code: str) -> bool:
    """Tell whether a code has the Correios format (AA123456789BR)."""
    return CORREIOS_CODE.fullmatch(code.upper()) is not None


def is_correios(carrier: str) -> bool:
    """Tell whether a carrier name, however typed, means Correios."""
    return carrier.strip().casefold() == CORREIOS.casefold()


def correios_url(code: str) -> str:
    """Return the public Correios tracking page of a code."""
    return CORREIOS_URL.format(code=code.upper())


def _text_error(value: str, required: str | None) -> str:
    if not value and required:
        return required
    if len(value) > MAX_TEXT:
        return f"Máximo de {MAX_TEXT} caracteres."
    return ""


def _code_error(carrier: str, code: str) -> str:
    problem = _text_error(code, "Informe o código de rastreio.")
    if problem or not is_correios(carrier):
        return problem
    # Other carriers use their own formats; only Correios has a fixed one.
    return "" if is_correios_code(code) else CORREIOS_CODE_ERROR


def _parse_day(text: str | date | None, today: date) -> tuple[date | None, str]:
    if isinstance(text, date):
        day = text
    elif not (text or "").strip():
        return today, ""
    else:
        day = _day_from_text(text.strip())
        if day is None:
            return None, "Data inválida. Use dd/mm/aaaa."
    if day > today:
        return None, "A data de envio não pode estar no futuro."
    return day, ""


def _day_from_text(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    return None


def validate_tracking(
    *,
    carrier: str | None,
    code: str | None,
    method: str | None = None,
    url: str | None = None,
    shipped_on: str | date | None = None,
    now: datetime,
) -> tuple[Tracking | None, dict[str, str]]:
    """Check tracking data before anything is sent; return it or pt-BR errors."""
    carrier = (carrier or "").strip()
    code = re.sub(r"\s", "", code or "")
    method = (method or "").strip()
    url = (url or "").strip()
    if code and is_correios_code(code):
        code = code.upper()
        url = url or correios_url(code)

    day, day_error = _parse_day(shipped_on, local_day(now))
    errors = {
        "carrier": _text_error(carrier, "Informe a transportadora."),
        "code": _code_error(carrier, code),
        "method": _text_error(method, None),
        "url": link_error(url),
        "shipped_on": day_error,
    }
    errors = {name: message for name, message in errors.items() if message}
    if errors:
        return None, errors
    return Tracking(carrier, code, method or None, url or None, day), {}
