"""Cell parsers: the file's number format, number errors, upper limits."""

from decimal import Decimal

import pytest

from dashboard.catalog import cells

HUGE = "9" * 40


def refusal(parse, *args) -> str:
    with pytest.raises(cells.CellError) as caught:
        parse(*args)
    return str(caught.value)


# Number format ----------------------------------------------------------------------


def test_a_file_without_comma_decimals_is_plain():
    assert not cells.uses_decimal_comma(["29.90", "1,299.90", "0.350", "30", None])


def test_ambiguous_and_non_text_cells_do_not_vote():
    assert not cells.uses_decimal_comma(["1.200", "1,200", "30", 29.9, None, ""])


def test_the_majority_of_unambiguous_cells_decides():
    plain_file = ["59.90", "49.90", "0.2", "R$ 32,90"]
    brazilian_file = ["59,90", "1.299,90", "0,350", "59.90"]

    assert not cells.uses_decimal_comma(plain_file)
    assert cells.uses_decimal_comma(brazilian_file)


def test_a_tie_goes_to_the_brazilian_format():
    assert cells.uses_decimal_comma(["29,90", "59.90", "1.200"])


def test_a_number_error_names_no_format_but_knows_the_other_fits():
    with pytest.raises(cells.NumberFormatError) as odd:
        cells.number("59.90", True)
    with pytest.raises(cells.NumberFormatError) as garbage:
        cells.number("abc", False)

    assert str(odd.value) == "número inválido: '59.90'"
    assert odd.value.other_format
    assert str(garbage.value) == "número inválido: 'abc'"
    assert not garbage.value.other_format


# Limits ---------------------------------------------------------------------------


def test_the_largest_amount_is_accepted_in_both_formats():
    assert cells.money("99999999.99", False) == Decimal("99999999.99")
    assert cells.money("R$ 99.999.999,99", True) == Decimal("99999999.99")


@pytest.mark.parametrize(
    ("value", "brazilian"),
    [
        ("100000000", False),
        ("99999999999999999999999.99", False),
        ("99.999.999.999,99", True),
        (HUGE, False),
        (1e300, False),
    ],
)
def test_an_amount_above_the_maximum_is_refused_in_brazilian_words(value, brazilian):
    message = refusal(cells.money, value, brazilian)

    assert message == "valor acima do máximo de 99.999.999,99"


def test_a_huge_amount_with_many_decimals_is_refused_not_crashed():
    message = refusal(cells.money, HUGE + ".123", False)

    assert message == "valor acima do máximo de 99.999.999,99"


def test_the_largest_stock_is_accepted():
    assert cells.stock("1000000000", False) == 1_000_000_000
    assert cells.stock("1.000.000.000", True) == 1_000_000_000


@pytest.mark.parametrize("value", ["1000000001", "99999999999999999999", 1e20])
def test_a_stock_above_the_maximum_is_refused(value):
    message = refusal(cells.stock, value, False)

    assert message == "estoque acima do máximo de 1.000.000.000"


def test_the_largest_measure_is_accepted_and_scaled():
    assert cells.scaled("1000000", False, 1000) == 1_000_000_000
    assert cells.scaled("1.000.000", True, 10) == 10_000_000


@pytest.mark.parametrize("value", ["1000000.5", HUGE])
def test_a_measure_above_the_maximum_is_refused(value):
    message = refusal(cells.scaled, value, False, 1000)

    assert message == "medida acima do máximo de 1.000.000"
