"""Converting word/tag TSV and CoNLL-U into .spacy files."""
import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from conftest import ROOT
from spacy_lstm_tagger.convert import convert

CONLLU = """# sent_id = 1
# text = Don't go.
1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tDo\tdo\tAUX\tVB\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No
3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t_\t_
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

"""


def read(path):
    return list(DocBin().from_disk(path).get_docs(Vocab()))


def test_tsv(tmp_path):
    count = convert(ROOT / "corpus" / "tutorial" / "tutorial.tsv", tmp_path / "out.spacy")
    docs = read(tmp_path / "out.spacy")
    assert count == 2
    assert [t.text for t in docs[1]] == ["Everybody", "read", "that", "book"]
    assert [t.tag_ for t in docs[0]] == ["DET", "NN", "V", "DET", "NN"]


@pytest.mark.parametrize("column,tags", [("xpos", ["VB", "RB", "VB", "."]), ("upos", ["AUX", "PART", "VERB", "PUNCT"])])
def test_conllu_skips_ranges_and_empty_nodes(tmp_path, column, tags):
    source = tmp_path / "in.conllu"
    source.write_text(CONLLU, encoding="utf8")
    convert(source, tmp_path / "out.spacy", tag_column=column)
    (doc,) = read(tmp_path / "out.spacy")
    assert [t.text for t in doc] == ["Do", "n't", "go", "."]
    assert [t.tag_ for t in doc] == tags


def test_shipped_corpus_matches_its_source():
    """corpus/*.spacy hold every sentence and token of the EWT files they came from."""
    docs = read(ROOT / "corpus" / "dev.spacy")
    assert len(docs) == 2002
    assert sum(len(doc) for doc in docs) == 25150
    assert all(token.tag_ for doc in docs for token in doc)


def test_malformed_tsv_names_the_line(tmp_path):
    source = tmp_path / "bad.tsv"
    source.write_text("dog\tNN\ncat\n", encoding="utf8")
    with pytest.raises(ValueError, match="bad.tsv:2"):
        convert(source, tmp_path / "out.spacy")


def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.tsv"):
        convert(tmp_path / "nowhere.tsv", tmp_path / "out.spacy")
    (tmp_path / "empty.tsv").write_text("\n\n", encoding="utf8")
    with pytest.raises(ValueError, match="no sentences"):
        convert(tmp_path / "empty.tsv", tmp_path / "out.spacy")
