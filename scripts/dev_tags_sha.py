"""The SHA-1 of the tags a pipeline gives a gold-tokenized corpus, float and int8: to check that a
change leaves a saved model's tags as they were.

    .venv/bin/python scripts/dev_tags_sha.py MODEL corpus/dev.spacy

Prints, for quantize = false and true: the number of tags, the SHA-1 of the tags (one a line,
nlp.pipe with batch size 256), and the SHA-1 of the first 300 Docs' tags tagged one at a time.
"""
import hashlib
import sys

import spacy
from spacy.tokens import Doc, DocBin


def sha1(tags) -> str:
    return hashlib.sha1("\n".join(tags).encode()).hexdigest()


def main(model: str, corpus: str) -> None:
    for quantize in (False, True):
        nlp = spacy.load(model, config={"components": {"lstm_tagger": {"quantize": quantize}}})
        words = [[t.text for t in doc] for doc in DocBin().from_disk(corpus).get_docs(nlp.vocab)]
        docs = [Doc(nlp.vocab, words=w) for w in words]
        tags = [t.tag_ for doc in nlp.pipe(docs, batch_size=256) for t in doc]
        alone = [t.tag_ for w in words[:300] for t in nlp(Doc(nlp.vocab, words=w))]
        print("int8" if quantize else "float", len(tags), sha1(tags), "batch1-first300", sha1(alone), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
