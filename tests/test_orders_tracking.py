"""Tracking validation: required fields, dates and the Correios code format."""

from datetime import UTC, datetime

import pytest

from dashboard.orders.tracking import CORREIOS_CODE_ERROR, validate_tracking

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def test_a_correios_code_typed_in_lower_case_with_spaces_is_normalized():
    tracking, errors = validate_tracking(
        carrier="Correios", code=" aa 123 456 789 br ", now=NOW
    )

    assert errors == {}
    assert tracking.code == "AA123456789BR"
    assert tracking.url.endswith("objetos=AA123456789BR")


@pytest.mark.parametrize(
    "code", ["AA12345BR", "AB1BR", "AA1234567890BR", "A1123456789BR", "AA١٢٣٤٥٦٧٨٩BR"]
)
def test_a_correios_code_out_of_format_is_refused(code):
    tracking, errors = validate_tracking(carrier="Correios", code=code, now=NOW)

    assert tracking is None
    assert errors == {"code": CORREIOS_CODE_ERROR}


@pytest.mark.parametrize("carrier", ["correios", "  CORREIOS ", "Correios"])
def test_the_correios_carrier_is_recognized_in_any_case_and_spacing(carrier):
    tracking, errors = validate_tracking(carrier=carrier, code="AB1BR", now=NOW)

    assert tracking is None
    assert errors["code"] == CORREIOS_CODE_ERROR


def test_other_carriers_keep_free_codes():
    tracking, errors = validate_tracking(carrier="Jadlog", code="AB1BR", now=NOW)

    assert errors == {}
    assert tracking.code == "AB1BR"


def test_an_empty_correios_code_asks_for_the_code():
    tracking, errors = validate_tracking(carrier="Correios", code="  ", now=NOW)

    assert tracking is None
    assert errors == {"code": "Informe o código de rastreio."}
