"""The `spacy_cli` entry point: adds the commands to spaCy's CLI as `python -m spacy lstm-tagger`."""
from spacy.cli._util import app as spacy_app

from .commands import app

spacy_app.add_typer(app)
