"""Distillation: the teachers' averaged tag probabilities for training Docs and raw text, cached
on disk, and the corpus reader that gives them to `spacy train` with each example."""
