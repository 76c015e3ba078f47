"""Convert word/tag TSV or CoNLL-U files into spaCy's binary `.spacy` format.

    python -m spacy lstm-tagger convert INPUT OUTPUT.spacy [--format tsv|conllu] [--tag-column xpos|upos]

TSV: one `word<TAB>tag` a line, a blank line between sentences.
CoNLL-U: the FORM and XPOS (or UPOS) columns; multi-word token ranges and empty nodes are skipped.
Each sentence becomes one Doc with gold tokens and tags.
"""
from pathlib import Path
from typing import Iterator, List, Tuple

from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

Sentence = Tuple[List[str], List[str]]
CONLLU_COLUMNS = {"upos": 3, "xpos": 4}


def _blocks(path: Path) -> Iterator[List[Tuple[int, str]]]:
    """Yield each blank-line-separated block of a file as its (line number, line) pairs."""
    block: List[Tuple[int, str]] = []
    with Path(path).open(encoding="utf8") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\n")
            if line.strip():
                block.append((number, line))
            elif block:
                yield block
                block = []
    if block:
        yield block


def read_tsv(path: Path) -> Iterator[Sentence]:
    """Yield (words, tags) for each blank-line-separated sentence of a word/tag TSV file."""
    for block in _blocks(path):
        words, tags = [], []
        for number, line in block:
            fields = line.split("\t")
            if len(fields) != 2 or not fields[0] or not fields[1]:
                raise ValueError(f"{path}:{number}: expected 'word<TAB>tag', got {line!r}")
            words.append(fields[0])
            tags.append(fields[1])
        yield words, tags


def read_conllu(path: Path, tag_column: str = "xpos") -> Iterator[Sentence]:
    """Yield (words, tags) for each sentence of a CoNLL-U file."""
    column = CONLLU_COLUMNS[tag_column]
    for block in _blocks(path):
        words, tags = [], []
        for number, line in block:
            if line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 10:
                raise ValueError(f"{path}:{number}: expected 10 CoNLL-U columns, got {len(fields)}")
            if "-" in fields[0] or "." in fields[0]:
                continue
            words.append(fields[1])
            tags.append(fields[column] if fields[column] != "_" else "")
        if words:
            yield words, tags


def sentences_to_docbin(sentences: Iterator[Sentence], vocab: Vocab) -> DocBin:
    """Make one Doc per sentence (tokens separated by spaces) and collect them."""
    docbin = DocBin(attrs=["ORTH", "TAG"], store_user_data=False)
    for words, tags in sentences:
        docbin.add(Doc(vocab, words=words, tags=tags))
    return docbin


def convert(input_path: Path, output_path: Path, file_format: str = "", tag_column: str = "xpos") -> int:
    """Convert a TSV or CoNLL-U file into a `.spacy` file; return the number of Docs written."""
    input_path = Path(input_path)
    if not input_path.is_file():
        raise FileNotFoundError(f"No such corpus file: {input_path}")
    file_format = file_format or ("conllu" if input_path.suffix == ".conllu" else "tsv")
    if file_format == "conllu":
        sentences = read_conllu(input_path, tag_column)
    elif file_format == "tsv":
        sentences = read_tsv(input_path)
    else:
        raise ValueError(f"Unknown corpus format {file_format!r}: use 'tsv' or 'conllu'")
    docbin = sentences_to_docbin(sentences, Vocab())
    if len(docbin) == 0:
        raise ValueError(f"{input_path} holds no sentences")
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    docbin.to_disk(output_path)
    return len(docbin)
