"""Command line commands of this area, added to run.py by dashboard.cli.

``import-catalog FILE [--replace]`` and ``export-catalog FILE`` (.csv or .xlsx).
Exit codes: 0 done, 1 file rejected or not written, 2 configuration error.
"""

import sys
from pathlib import Path

import click

from dashboard.catalog.exporter import export_catalog as write_catalog
from dashboard.catalog.importer import ImportReport, apply_import
from dashboard.catalog.spreadsheet import SheetError, format_of

EXIT_OK = 0
EXIT_REJECTED = 1


@click.command("import-catalog")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Desativa os produtos ativos que não estão no arquivo (estoque 0 no "
    "Plugg.to).",
)
@click.pass_obj
def import_catalog(runtime, file: Path, replace: bool) -> None:
    """Importa o catálogo de uma planilha .csv ou .xlsx (tudo ou nada)."""
    app = runtime.app()
    with app.app_context():
        report = apply_import(file, replace=replace)

    echo_report(report)
    sys.exit(EXIT_OK if report.ok else EXIT_REJECTED)


def echo_report(report: ImportReport) -> None:
    """Print an import report in pt-BR (problems on stderr)."""
    for notice in report.notices:
        click.echo(f"Aviso: {notice}")
    if report.ok:
        click.echo(f"Importação concluída. {report.summary()}")
        if report.replace:
            click.echo(
                "Modo substituir: produtos ausentes do arquivo foram desativados."
            )
        return
    click.echo(report.summary(), err=True)
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)


@click.command("export-catalog")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def export_catalog(runtime, file: Path) -> None:
    """Exporta o catálogo para uma planilha .csv ou .xlsx."""
    try:
        format_of(file.name)
    except SheetError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_REJECTED)

    app = runtime.app()
    with app.app_context():
        try:
            rows = write_catalog(file)
        except OSError as error:
            click.echo(f"Não foi possível gravar {file}: {error.strerror}", err=True)
            sys.exit(EXIT_REJECTED)
    click.echo(f"Catálogo exportado: {rows} linha(s) em {file}.")
    sys.exit(EXIT_OK)


commands: list[click.Command] = [import_catalog, export_catalog]
