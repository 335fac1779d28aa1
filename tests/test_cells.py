"""Cell parsers: upper limits of amounts, stock and measures."""

from decimal import Decimal

import pytest

from dashboard.catalog import cells

HUGE = "9" * 40


def refusal(parse, *args) -> str:
    with pytest.raises(cells.CellError) as caught:
        parse(*args)
    return str(caught.value)


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
