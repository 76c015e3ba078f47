"""The commands (`commands.py`, run as `python -m spacy lstm-tagger ...`) and the code behind them."""
