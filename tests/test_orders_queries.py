"""Reading orders for the screens: payment method names."""

import pytest

from dashboard.orders.queries import payment_label


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("credit_card", "Cartão de crédito"),
        ("debit_card", "Cartão de débito"),
        ("bank_slip", "Boleto"),
        ("boleto", "Boleto"),
        ("ticket", "Boleto"),
        ("pix", "Pix"),
        ("account_money", "Saldo em conta"),
        ("voucher", "Vale-presente"),
        ("gift_card", "Vale-presente"),
    ],
)
def test_known_payment_codes_get_their_pt_br_names(code, label):
    assert payment_label(code) == label


def test_a_code_in_capitals_or_with_spaces_around_is_still_known():
    assert payment_label(" Credit_Card ") == "Cartão de crédito"


def test_an_unknown_payment_code_is_shown_as_it_came():
    assert payment_label("crypto_wallet") == "crypto_wallet"


def test_a_method_already_written_in_portuguese_is_kept():
    assert payment_label("Cartão de crédito") == "Cartão de crédito"


@pytest.mark.parametrize("empty", [None, "", "  "])
def test_a_missing_method_is_called_pagamento(empty):
    assert payment_label(empty) == "Pagamento"
