"""NF-e access key checks, invoice validation and XML reading."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.orders.nfe import (
    NfeXmlError,
    check_digit,
    clean_key,
    key_error,
    read_xml,
    validate_invoice,
)
from tests.orders_factories import nfe_key

NOW = datetime(2024, 5, 20, 15, 0, tzinfo=UTC)
NS = "http://www.portalfiscal.inf.br/nfe"


def validate(now=NOW, **overrides):
    fields = {
        "key": nfe_key(1, 1234),
        "number": "1234",
        "series": "1",
        "issued_at": "2024-05-10T15:30",
        "link": "",
    }
    fields.update(overrides)
    return validate_invoice(now=now, **fields)


def spaced(key: str) -> str:
    groups = [key[i : i + 4] for i in range(0, 44, 4)]
    return " ".join(groups[:5]) + "." + ".".join(groups[5:])


@pytest.mark.parametrize(
    ("first_43", "digit"),
    [
        ("0" * 43, 0),
        ("0" * 42 + "1", 9),  # 1 x 2 = 2 -> 11 - 2
        ("0" * 41 + "10", 8),  # 1 x 3 = 3 -> 11 - 3
        ("0" * 34 + "1" + "0" * 8, 9),  # the weights restart at 2 after 9
        ("0" * 35 + "5" + "0" * 7, 0),  # 5 x 9 = 45, remainder 1 -> 0
    ],
)
def test_the_check_digit_is_mod_11_with_weights_2_to_9(first_43, digit):
    assert check_digit(first_43) == digit


def test_it_accepts_a_key_typed_with_spaces_and_dots():
    invoice, errors = validate(key=spaced(nfe_key(1, 1234)))

    assert errors == {}
    assert invoice.key == nfe_key(1, 1234)
    assert invoice.issued_at == datetime(2024, 5, 10, 18, 30, tzinfo=UTC)


def test_clean_key_removes_only_spaces_and_dots():
    assert clean_key(" 12.34 5 ") == "12345"


def test_it_refuses_a_wrong_check_digit():
    key = nfe_key(1, 1234)
    wrong = key[:43] + str((int(key[43]) + 1) % 10)

    invoice, errors = validate(key=wrong)

    assert invoice is None
    assert "dígito verificador" in errors["key"]


def test_it_refuses_a_key_with_43_digits():
    _, errors = validate(key=nfe_key(1, 1234)[:43])

    assert errors["key"] == "A chave deve ter 44 dígitos; esta tem 43."


def test_it_refuses_letters_in_the_key():
    assert "só números" in key_error("A" * 44)


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_it_refuses_a_key_written_in_arabic_indic_digits():
    exotic = nfe_key(1, 1234).translate(ARABIC_INDIC)

    invoice, errors = validate(key=exotic)

    assert invoice is None
    assert errors == {"key": "A chave deve ter só números (44 dígitos)."}


def test_a_superscript_in_the_key_is_a_field_error_not_a_crash():
    invoice, errors = validate(key=nfe_key(1, 1234)[:43] + "²")

    assert invoice is None
    assert errors == {"key": "A chave deve ter só números (44 dígitos)."}


@pytest.mark.parametrize("field", ["number", "series"])
@pytest.mark.parametrize("value", ["1²", "١", "¹"])
def test_number_and_series_take_only_the_digits_0_to_9(field, value):
    invoice, errors = validate(**{field: value})

    assert invoice is None
    assert errors[field].startswith("Use só números")


def test_it_refuses_a_number_that_disagrees_with_the_key():
    _, errors = validate(number="1235")

    assert errors == {"number": "Não confere com a chave, que indica o número 1234."}


def test_it_refuses_a_series_that_disagrees_with_the_key():
    _, errors = validate(series="2")

    assert errors == {"series": "Não confere com a chave, que indica a série 1."}


def test_leading_zeros_in_number_and_series_still_agree():
    invoice, errors = validate(number="000001234", series="001")

    assert errors == {}
    assert (invoice.number, invoice.series) == ("1234", "1")


def test_it_refuses_an_issue_date_in_the_future():
    tomorrow = (NOW + timedelta(days=1)).strftime("%d/%m/%Y")

    _, errors = validate(issued_at=tomorrow)

    assert errors == {"issued_at": "A data de emissão não pode estar no futuro."}


def test_it_refuses_a_key_issued_in_another_month_than_the_date():
    key = nfe_key(1, 1234, year_month="2612")
    december = datetime(2026, 12, 4, tzinfo=UTC)

    invoice, errors = validate(december, key=key, issued_at="03/10/2026")

    assert invoice is None
    assert errors == {
        "issued_at": "A chave indica emissão em 12/2026, mas a data informada é "
        "10/2026."
    }


def test_an_evening_issue_on_the_last_day_of_a_month_matches_that_month():
    june = datetime(2024, 6, 20, tzinfo=UTC)

    invoice, errors = validate(june, issued_at="31/05/2024 22:30")

    assert errors == {}
    assert invoice.issued_at == datetime(2024, 6, 1, 1, 30, tzinfo=UTC)


def test_a_utc_date_read_from_an_xml_is_compared_in_brasilia_time():
    june = datetime(2024, 6, 20, tzinfo=UTC)
    utc_june_first = datetime(2024, 6, 1, 1, 30, tzinfo=UTC)

    _, errors = validate(june, issued_at=utc_june_first)

    assert errors == {}


def test_a_may_key_issued_just_after_midnight_in_brasilia_may_come_from_the_west():
    june = datetime(2024, 6, 20, tzinfo=UTC)

    # 00:10 in Brasília is still 31/05 in Manaus (UTC-4) and Rio Branco (UTC-5).
    _, errors = validate(june, issued_at="01/06/2024 00:10")

    assert errors == {}


def test_a_may_key_hours_into_june_everywhere_in_brazil_is_refused():
    june = datetime(2024, 6, 20, tzinfo=UTC)

    _, errors = validate(june, issued_at="01/06/2024 03:00")  # 01:00 in Rio Branco

    assert errors["issued_at"].startswith("A chave indica emissão em 05/2024")


def test_a_key_with_a_wrong_check_digit_gets_no_month_error():
    key = nfe_key(1, 1234)
    wrong = key[:43] + str((int(key[43]) + 1) % 10)

    _, errors = validate(key=wrong, issued_at="10/04/2024")

    assert set(errors) == {"key"}


def test_it_refuses_an_unreadable_date_and_a_bad_link():
    _, errors = validate(issued_at="ontem", link="javascript:alert(1)")

    assert set(errors) == {"issued_at", "link"}


def test_it_asks_for_every_missing_field():
    _, errors = validate(key="", number="", series="", issued_at="")

    assert set(errors) == {"key", "number", "series", "issued_at"}


def nfe_xml(key: str, number="1234", series="1", issued="2024-05-10T15:30:00-03:00"):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<nfeProc xmlns="{NS}" versao="4.00">
  <NFe xmlns="{NS}">
    <infNFe Id="NFe{key}" versao="4.00">
      <ide><cUF>35</cUF><serie>{series}</serie><nNF>{number}</nNF>
        <dhEmi>{issued}</dhEmi></ide>
    </infNFe>
  </NFe>
  <protNFe versao="4.00"><infProt><chNFe>{key}</chNFe></infProt></protNFe>
</nfeProc>""".encode()


def test_it_reads_key_number_series_and_date_from_the_xml():
    fields = read_xml(nfe_xml(nfe_key(1, 1234)))

    assert fields.key == nfe_key(1, 1234)
    assert (fields.number, fields.series) == ("1234", "1")
    assert fields.issued_at == datetime(2024, 5, 10, 18, 30, tzinfo=UTC)


def test_it_takes_the_key_from_the_protocol_when_the_id_is_missing():
    xml = nfe_xml(nfe_key(1, 1234)).replace(
        f'Id="NFe{nfe_key(1, 1234)}" '.encode(), b""
    )

    assert read_xml(xml).key == nfe_key(1, 1234)


def test_it_refuses_xml_with_entities():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">]>
<nfeProc><lol>&lol;</lol></nfeProc>"""

    with pytest.raises(NfeXmlError):
        read_xml(bomb)


@pytest.mark.parametrize(
    "data", [b"", b"not xml", b"<nfeProc xmlns='x'><other/></nfeProc>"]
)
def test_it_refuses_files_that_are_not_an_nfe(data):
    with pytest.raises(NfeXmlError):
        read_xml(data)
