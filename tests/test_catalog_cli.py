"""run.py import-catalog / export-catalog: output in pt-BR and exit codes."""

import gzip

import pytest
from sqlalchemy import func, select

from dashboard.cli import cli
from dashboard.extensions import db
from dashboard.models.catalog import Product
from tests.catalog_factories import HEADER, ROWS, csv_text, with_cell, write_csv


@pytest.fixture
def run(app, cli_runner):
    """Invoke run.py on the same data folder as the test app."""

    def invoke(*args):
        data_dir = str(app.config["DATA_DIR"])
        return cli_runner.invoke(cli, ["--data-dir", data_dir, *map(str, args)])

    return invoke


def products() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Product))


def test_import_catalog_reports_counts_and_exits_0(run, configured, tmp_path):
    result = run("import-catalog", write_csv(tmp_path))

    assert result.exit_code == 0, result.output
    assert "Importação concluída" in result.stdout
    assert "2 novo(s)" in result.stdout
    assert products() == 2


def test_import_catalog_prints_the_notices(run, configured, tmp_path):
    header = HEADER + ["isbn"]
    rows = [row + [""] for row in ROWS]

    result = run("import-catalog", write_csv(tmp_path, header, rows))

    assert "Aviso: Colunas ignoradas" in result.stdout


def test_a_rejected_file_exits_1_with_each_problem_on_stderr(run, configured, tmp_path):
    rows = with_cell(ROWS, 1, "special_price", "99.90")

    result = run("import-catalog", write_csv(tmp_path, rows=rows))

    assert result.exit_code == 1
    assert "Arquivo recusado" in result.stderr
    assert "Linha 3, coluna special_price" in result.stderr
    assert products() == 0


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("catalogo.csv", bytes(range(256)) * 20),
        ("catalogo.csv", gzip.compress(csv_text().encode())),
        ("catalogo.xlsx", bytes(range(256)) * 20),
        ("catalogo.xlsx", csv_text().encode()),
    ],
    ids=["random-csv", "gzip-csv", "random-xlsx", "csv-as-xlsx"],
)
def test_a_file_that_is_no_spreadsheet_exits_1_with_the_reason_on_stderr(
    run, configured, tmp_path, name, content
):
    path = tmp_path / name
    path.write_bytes(content)

    result = run("import-catalog", path)

    assert result.exit_code == 1
    assert "Arquivo recusado" in result.stderr
    assert ("conteúdo binário" in result.stderr) or ("xlsx" in result.stderr)
    assert "Traceback" not in result.output
    assert products() == 0


def test_import_catalog_of_a_missing_file_is_a_usage_error(run, configured, tmp_path):
    result = run("import-catalog", tmp_path / "nao-existe.csv")

    assert result.exit_code == 2


def test_replace_deactivates_products_absent_from_the_file(run, configured, tmp_path):
    run("import-catalog", write_csv(tmp_path))

    result = run("import-catalog", "--replace", write_csv(tmp_path, rows=ROWS[1:]))

    assert result.exit_code == 0
    assert "1 desativado(s)" in result.stdout
    assert "Modo substituir" in result.stdout


@pytest.mark.parametrize("name", ["saida.csv", "saida.xlsx"])
def test_export_catalog_writes_a_file_that_imports_back(
    run, configured, tmp_path, name
):
    run("import-catalog", write_csv(tmp_path))
    target = tmp_path / name

    exported = run("export-catalog", target)
    reimported = run("import-catalog", target)

    assert exported.exit_code == 0
    assert "Catálogo exportado: 4 linha(s)" in exported.stdout
    assert "0 novo(s), 0 alterado(s), 2 inalterado(s)" in reimported.stdout


def test_export_catalog_refuses_an_unknown_format(run, configured, tmp_path):
    result = run("export-catalog", tmp_path / "saida.pdf")

    assert result.exit_code == 1
    assert "Formato não suportado" in result.stderr


def test_export_catalog_to_an_unwritable_place_exits_1(run, configured, tmp_path):
    result = run("export-catalog", tmp_path / "nao" / "existe" / "saida.csv")

    assert result.exit_code == 1
    assert "Não foi possível gravar" in result.stderr
