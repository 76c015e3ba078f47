"""`python -m spacy_lstm_tagger COMMAND`: the same commands as `python -m spacy lstm-tagger COMMAND`."""
from typer.main import get_command

from .cli.commands import app

if __name__ == "__main__":
    get_command(app)(prog_name="python -m spacy_lstm_tagger")
