"""The commands: `python -m spacy lstm-tagger ...`."""
