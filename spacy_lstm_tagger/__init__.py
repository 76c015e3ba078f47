"""spacy-lstm-tagger: a PyTorch LSTM part-of-speech tagger as the spaCy component `lstm_tagger`.

spaCy finds the component and its architecture through entry points, so nothing
needs importing: `spacy.blank("en").add_pipe("lstm_tagger")`.
"""

__version__ = "0.1.0"
