"""SKUs of the demo sample catalog, used when the sandbox has no products yet.

They mirror rows of ``dashboard/demo/sample_catalog.csv`` (name and sale price);
the sandbox keeps its own copy because it imports nothing from the dashboard.
"""

from __future__ import annotations

from .lines import LineSource

FALLBACK_LINES: tuple[LineSource, ...] = (
    LineSource(
        "CAM-BAS-AZ-M", "CAM-BAS", "Camiseta Básica Algodão Orgânico Azul M", 59.9
    ),
    LineSource(
        "CAM-BAS-PT-G", "CAM-BAS", "Camiseta Básica Algodão Orgânico Preta G", 59.9
    ),
    LineSource("VES-MID-FL-M", "VES-MID", "Vestido Midi Floral Viscose M", 189.9),
    LineSource("TEN-CAS-BR-40", "TEN-CAS", "Tênis Casual Couro Branco 40", 249.9),
    LineSource("CAN-TER-500", None, "Caneca Térmica Inox 500 ml", 69.9),
    LineSource("KIT 2/3 COPOS", None, "Kit 2 Jogos de 3 Copos de Vidro 350 ml", 54.9),
    LineSource("LIQ-PRO-900", None, "Liquidificador Pro 900 W 3 Litros", 199.9),
    LineSource("FON-BT-X2", None, "Fone de Ouvido Bluetooth X2", 129.9),
    LineSource("TOA-BAN-AL", None, "Toalha de Banho Algodão 70x140 cm", 79.9),
    LineSource("00123", None, "Caderno Universitário 10 Matérias 200 Folhas", 32.9),
)
