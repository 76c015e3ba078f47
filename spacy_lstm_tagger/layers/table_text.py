"""The text that fills an encoder's feature tables, when its config names one (`table_text`):
JSONL raw text, as `spacy pretrain` reads it, and `.spacy` corpora."""
from pathlib import Path
from typing import Iterator, List

import srsly
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab


def table_text_docs(path: str, vocab: Vocab) -> Iterator[Doc]:
    """The Docs of a `.jsonl` file's lines' "text", tokenized by the language's default
    tokenizer (as `spacy pretrain`'s `spacy.JsonlCorpus.v1` does for a pipeline without a custom
    one); of a `.spacy` file; or of a folder's `.jsonl` and `.spacy` files, in name order."""
    files = table_text_files(path)
    make_doc = None
    for path in files:
        if path.suffix == ".spacy":
            yield from DocBin().from_disk(path).get_docs(vocab)
            continue
        if make_doc is None:
            make_doc = _tokenizer(vocab)
        for line, record in enumerate(srsly.read_jsonl(path), start=1):
            text = record.get("text") if isinstance(record, dict) else None
            if not isinstance(text, str):
                raise ValueError(f"lstm_tagger: table_text: line {line} of {path} has no \"text\" string")
            yield make_doc(text)


def table_text_files(name: str) -> List[Path]:
    """The `.jsonl` and `.spacy` files that `name` names; a ValueError naming a missing path,
    a file of another kind, or a folder with none."""
    path = Path(name)
    if not path.exists():
        raise ValueError(f"lstm_tagger: table_text: {path} does not exist")
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES)
        if not found:
            raise ValueError(f"lstm_tagger: table_text: the folder {path} has no .jsonl or .spacy file")
        return found
    if path.suffix not in SUFFIXES:
        raise ValueError(f"lstm_tagger: table_text: {path} is neither JSONL text (.jsonl) nor a .spacy corpus")
    return [path]


SUFFIXES = (".jsonl", ".spacy")


def _tokenizer(vocab: Vocab):
    import spacy

    if not vocab.lang:
        raise ValueError("lstm_tagger: table_text: the vocab has no language, so the text cannot be tokenized")
    return spacy.blank(vocab.lang, vocab=vocab).make_doc
