"""``python -m netdraw`` runs the command line."""

from netdraw.cli import entry

entry()
