"""The text that fills an encoder's feature tables: JSONL, .spacy, or a folder of them."""
import pytest
import spacy
import srsly
from spacy.tokens import Doc, DocBin

from spacy_lstm_tagger.layers.table_text import table_text_docs


def test_a_folder_gives_its_jsonl_and_spacy_files_docs_in_name_order(tmp_path):
    vocab = spacy.blank("en").vocab
    srsly.write_jsonl(tmp_path / "a.jsonl", [{"text": "Raw text, tokenized."}, {"text": ""}])
    DocBin(docs=[Doc(vocab, words=["Gold", "words"])]).to_disk(tmp_path / "b.spacy")
    (tmp_path / "notes.txt").write_text("not read")
    docs = list(table_text_docs(str(tmp_path), vocab))
    assert [[t.text for t in doc] for doc in docs] == [["Raw", "text", ",", "tokenized", "."], [], ["Gold", "words"]]


def test_a_line_without_text_is_named(tmp_path):
    srsly.write_jsonl(tmp_path / "raw.jsonl", [{"text": "fine"}, {"words": ["no", "text"]}])
    with pytest.raises(ValueError, match="line 2 of .*raw.jsonl"):
        list(table_text_docs(str(tmp_path / "raw.jsonl"), spacy.blank("en").vocab))


def test_an_empty_folder_is_named(tmp_path):
    with pytest.raises(ValueError, match="no .jsonl or .spacy file"):
        list(table_text_docs(str(tmp_path), spacy.blank("en").vocab))
