"""``flask outbox …`` and ``flask notify …`` commands."""

import click

commands: list[click.Command] = []
