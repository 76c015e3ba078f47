"""Plain PyTorch: the tagger's network and the ways its LSTM runs. Nothing here imports spaCy or
Thinc; `execution.run` is the one place that decides how a call runs."""
