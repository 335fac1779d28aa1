"""Command line commands of this area, added to run.py by dashboard.cli."""

import click

commands: list[click.Command] = []
