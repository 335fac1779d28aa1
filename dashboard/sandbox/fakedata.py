"""Realistic, fictitious pt-BR orders: buyers, addresses, payments, totals."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from .lines import LineSource
from .orders import blank_shipment

FIRST_NAMES = (
    "Ana", "Beatriz", "Camila", "Daniela", "Eduarda", "Fernanda", "Gabriela",
    "Helena", "Isabela", "Juliana", "Larissa", "Mariana", "Natália", "Patrícia",
    "Renata", "Sofia", "Tatiane", "Vitória", "André", "Bruno", "Carlos", "Diego",
    "Eduardo", "Felipe", "Gustavo", "Henrique", "João", "Lucas", "Marcelo",
    "Otávio", "Paulo", "Rafael", "Thiago", "Vinícius",
)  # fmt: skip
LAST_NAMES = (
    "Almeida", "Barbosa", "Cardoso", "Carvalho", "Castro", "Costa", "Dias",
    "Fernandes", "Ferreira", "Gomes", "Lima", "Machado", "Martins", "Melo",
    "Mendes", "Moreira", "Nascimento", "Oliveira", "Pereira", "Ribeiro",
    "Rocha", "Santos", "Silva", "Souza", "Teixeira", "Vieira",
)  # fmt: skip
STREETS = (
    "Rua das Acácias", "Rua dos Ipês", "Avenida das Palmeiras", "Rua Sete de Setembro",
    "Rua Quinze de Novembro", "Avenida Brasil", "Rua do Comércio", "Rua da Aurora",
    "Travessa das Flores", "Rua Santa Luzia", "Avenida Beira-Rio", "Rua São Bento",
    "Rua Dom Pedro II", "Alameda dos Anjos", "Rua das Laranjeiras", "Rua Tiradentes",
)  # fmt: skip
NEIGHBORHOODS = (
    "Centro", "Jardim América", "Vila Nova", "Boa Vista", "Santa Cecília",
    "Jardim das Flores", "Bela Vista", "Vila Mariana", "São José", "Cidade Alta",
    "Parque Industrial", "Morada do Sol",
)  # fmt: skip
COMPLEMENTS = (
    "",
    "",
    "",
    "Apto 12",
    "Apto 304",
    "Casa 2",
    "Bloco B, Apto 41",
    "Fundos",
)
# (city, UF, area code, first and last 5-digit CEP prefix)
CITIES = (
    ("São Paulo", "SP", "11", 1000, 5999),
    ("Campinas", "SP", "19", 13000, 13139),
    ("Ribeirão Preto", "SP", "16", 14000, 14114),
    ("Rio de Janeiro", "RJ", "21", 20000, 23799),
    ("Niterói", "RJ", "21", 24000, 24399),
    ("Belo Horizonte", "MG", "31", 30000, 31999),
    ("Uberlândia", "MG", "34", 38400, 38415),
    ("Vitória", "ES", "27", 29000, 29099),
    ("Curitiba", "PR", "41", 80000, 82999),
    ("Londrina", "PR", "43", 86000, 86099),
    ("Florianópolis", "SC", "48", 88000, 88099),
    ("Joinville", "SC", "47", 89200, 89239),
    ("Porto Alegre", "RS", "51", 90000, 91999),
    ("Salvador", "BA", "71", 40000, 42599),
    ("Recife", "PE", "81", 50000, 52999),
    ("Fortaleza", "CE", "85", 60000, 61599),
    ("Natal", "RN", "84", 59000, 59139),
    ("João Pessoa", "PB", "83", 58000, 58099),
    ("Maceió", "AL", "82", 57000, 57099),
    ("São Luís", "MA", "98", 65000, 65109),
    ("Belém", "PA", "91", 66000, 66999),
    ("Manaus", "AM", "92", 69000, 69099),
    ("Goiânia", "GO", "62", 74000, 74899),
    ("Brasília", "DF", "61", 70000, 72799),
    ("Campo Grande", "MS", "67", 79000, 79129),
    ("Cuiabá", "MT", "65", 78000, 78109),
)
CHANNELS = ("MercadoLivre", "Amazon", "Magalu", "Shopee", "Americanas")
CHANNEL_WEIGHTS = (45, 20, 15, 12, 8)
SHIPPING_METHODS = {
    "MercadoLivre": "Mercado Envios",
    "Amazon": "Amazon DBA",
    "Magalu": "Magalu Entregas",
    "Shopee": "Shopee Xpress",
    "Americanas": "Americanas Entrega",
}
SHIPPING_CENTS = (0, 0, 1290, 1890, 2490, 3290)
PAYMENTS = (
    ("credit", "credit_card"),
    ("credit", "credit_card"),
    ("pix", "pix"),
    ("boleto", "bank_slip"),
    ("debit", "debit_card"),
)
EMAIL_DOMAIN = "exemplo.com.br"


def cpf_check_digits(base: str) -> str:
    """Return the two check digits of a 9-digit CPF base."""
    digits = [int(char) for char in base]
    for weight_start in (10, 11):
        total = sum(
            d * w for d, w in zip(digits, range(weight_start, 1, -1), strict=False)
        )
        remainder = total * 10 % 11
        digits.append(0 if remainder == 10 else remainder)

    return f"{digits[-2]}{digits[-1]}"


def is_valid_cpf(cpf: str) -> bool:
    """Tell whether an 11-digit CPF has valid check digits."""
    if len(cpf) != 11 or not cpf.isdigit() or len(set(cpf)) == 1:
        return False
    return cpf_check_digits(cpf[:9]) == cpf[9:]


def _ascii_slug(text: str) -> str:
    """Strip accents and spaces for an e-mail local part."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "")


@dataclass(frozen=True)
class Person:
    """A fictitious buyer."""

    first_name: str
    last_name: str
    cpf: str
    email: str
    phone: str


class OrderFactory:
    """Build realistic order records from a seeded random generator."""

    def __init__(self, rng: random.Random, missing_data_rate: float = 0.1) -> None:
        self._rng = rng
        self.missing_data_rate = missing_data_rate

    def cpf(self) -> str:
        """Return a random CPF with valid check digits."""
        base = "".join(str(self._rng.randint(0, 9)) for _ in range(9))
        if len(set(base)) == 1:
            base = "1" + base[1:-1] + "2"
        return base + cpf_check_digits(base)

    def build(
        self,
        ids: tuple[str, str],
        lines: list[tuple[LineSource, int]],
        status: str,
        stamps: tuple[str, str],
    ) -> dict[str, Any]:
        """Return one order; ids = (order, shipment), stamps = (created, now)."""
        channel = self._rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        city = self._rng.choice(CITIES)
        buyer = self._person(city[2])
        items = [self._item(source, quantity) for source, quantity in lines]

        order: dict[str, Any] = {
            "id": ids[0],
            "original_id": self._marketplace_number(channel),
            "channel": channel,
            "status": status,
            "created": stamps[0],
            "modified": stamps[1],
        }
        order.update(self._amounts(items))
        order.update(self._receiver(buyer, city))
        order.update(self._payer(buyer))
        order["payments"] = [self._payment(order["total"])]
        order["items"] = items
        order["shipments"] = [self._shipment(ids[1], channel, items)]
        order["external"] = None

        self._drop_some_data(order)
        return order

    def _person(self, area_code: str) -> Person:
        """Invent a buyer with a CPF, an e-mail and a mobile number."""
        first = self._rng.choice(FIRST_NAMES)
        last = " ".join(self._rng.sample(LAST_NAMES, 2))
        local = f"{_ascii_slug(first)}.{_ascii_slug(last.split()[-1])}"
        email = f"{local}{self._rng.randint(1, 999)}@{EMAIL_DOMAIN}"
        phone = f"{area_code}9{self._rng.randint(10_000_000, 99_999_999)}"
        return Person(first, last, self.cpf(), email, phone)

    def _marketplace_number(self, channel: str) -> str:
        """Invent an order number in the marketplace's own format."""
        rng = self._rng
        if channel == "MercadoLivre":
            return f"2000{rng.randint(10**8, 10**9 - 1)}"
        if channel == "Amazon":
            first, second = (rng.randint(10**6, 10**7 - 1) for _ in range(2))
            return f"70{rng.randint(1, 9)}-{first}-{second}"
        if channel == "Magalu":
            return f"LU-{rng.randint(10**13, 10**14 - 1)}"
        if channel == "Shopee":
            return f"24{rng.randint(10**11, 10**12 - 1)}"
        return f"02-{rng.randint(10**8, 10**9 - 1)}"

    def _item(self, source: LineSource, quantity: int) -> dict[str, Any]:
        """Build an order line; a variation line names the parent and the variation."""
        item: dict[str, Any] = {
            "id": None,
            "sku": source.parent_sku or source.sku,
            "name": source.name,
            "quantity": quantity,
            "price": round(source.price, 2),
            "total": round(round(source.price, 2) * quantity, 2),
        }
        if source.parent_sku:
            item["variation"] = {"sku": source.sku}
        return item

    def _amounts(self, items: list[dict[str, Any]]) -> dict[str, float]:
        """Compute subtotal, shipping, discount and total so that they add up."""
        subtotal = sum(round(item["total"] * 100) for item in items)
        shipping = self._rng.choice(SHIPPING_CENTS)
        discount = 0
        if self._rng.random() < 0.2:
            discount = min(self._rng.choice((500, 1000, 1500, 2000)), subtotal // 2)

        return {
            "subtotal": subtotal / 100,
            "shipping": shipping / 100,
            "discount": discount / 100,
            "total": (subtotal + shipping - discount) / 100,
        }

    def _receiver(
        self, buyer: Person, city: tuple[str, str, str, int, int]
    ) -> dict[str, str]:
        """Build the delivery fields for a buyer in a city."""
        name, state, _, first_prefix, last_prefix = city
        prefix = self._rng.randint(first_prefix, last_prefix)
        return {
            "receiver_name": buyer.first_name,
            "receiver_lastname": buyer.last_name,
            "receiver_address": self._rng.choice(STREETS),
            "receiver_address_number": str(self._rng.randint(1, 2999)),
            "receiver_address_complement": self._rng.choice(COMPLEMENTS),
            "receiver_neighborhood": self._rng.choice(NEIGHBORHOODS),
            "receiver_city": name,
            "receiver_state": state,
            "receiver_zipcode": f"{prefix:05d}{self._rng.randint(0, 999):03d}",
            "receiver_phone": buyer.phone,
            "receiver_email": buyer.email,
        }

    def _payer(self, buyer: Person) -> dict[str, str]:
        """Build the payer fields (the buyer pays for their own order)."""
        return {
            "payer_name": buyer.first_name,
            "payer_lastname": buyer.last_name,
            "payer_cpf": buyer.cpf,
            "payer_email": buyer.email,
            "payer_phone": buyer.phone,
        }

    def _payment(self, total: float) -> dict[str, Any]:
        """Build the single payment; installments arrive as a string."""
        payment_type, method = self._rng.choice(PAYMENTS)
        installments = (
            self._rng.choice((1, 1, 2, 3, 4, 6, 10)) if payment_type == "credit" else 1
        )
        return {
            "payment_type": payment_type,
            "payment_method": method,
            "payment_installments": str(installments),
            "payment_total": total,
        }

    def _shipment(
        self, shipment_id: str, channel: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Build the shipment the marketplace pre-creates, with no tracking or NF-e."""
        shipment = blank_shipment(shipment_id)
        shipment["shipping_method"] = SHIPPING_METHODS[channel]
        shipment["shipping_items"] = [
            {
                "sku": (item.get("variation") or item)["sku"],
                "quantity": item["quantity"],
            }
            for item in items
        ]
        return shipment

    def _drop_some_data(self, order: dict[str, Any]) -> None:
        """Blank the e-mail or the subtotal now and then, as real orders do."""
        if self._rng.random() >= self.missing_data_rate:
            return

        if self._rng.random() < 0.5:
            order["receiver_email"] = None
            order["payer_email"] = ""
        else:
            order["subtotal"] = None
