"""Pretraining the tagger's encoder on raw text with `spacy pretrain`: our objective, a
bidirectional language model."""
