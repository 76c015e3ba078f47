"""tag_corpus: tag a corpus of JSONL, plain text or Parquet files with a pipeline, on a local Ray
instance or a Ray cluster (Ray Data), every record accounted for. Needs the `ray` extra:
`pip install "spacy-lstm-tagger[ray]"`. The command: `python -m spacy lstm-tagger tag-corpus`."""
from .inputs import TagCorpusError
from .job import Summary, tag_corpus

__all__ = ["Summary", "TagCorpusError", "tag_corpus"]
