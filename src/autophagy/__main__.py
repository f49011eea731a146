"""``python -m autophagy`` runs the command line."""

from autophagy.cli import app

app()
