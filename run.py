"""Entry point: `python run.py` serves the dashboard; see `--help`."""

from dashboard.cli import cli

if __name__ == "__main__":
    cli()
