"""The spaCy side: the `lstm_tagger` component and what it needs (its loss, labels, loading,
calibration)."""
