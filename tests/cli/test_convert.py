"""Converting word/tag TSV and CoNLL-U into .spacy files."""
import subprocess
import sys

import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from conftest import ROOT
from spacy_lstm_tagger.cli.convert import convert

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


def read_source(path):
    """The (word, tag) pairs of each sentence of a word<TAB>tag file, blank lines between sentences."""
    sentences, sentence = [], []
    for line in path.read_text(encoding="utf8").split("\n"):
        if line.strip():
            word, tag = line.split("\t")  # exactly two fields, or the source is not what we think
            sentence.append((word, tag))
        elif sentence:
            sentences.append(sentence)
            sentence = []
    return sentences + [sentence] if sentence else sentences


@pytest.mark.parametrize("name", ["dev", "train"])
def test_shipped_corpus_matches_its_source(name):
    """corpus/NAME.spacy holds the sentences of ../shared/corpora/en_ewt/NAME.tsv, word for word
    and tag for tag, in order (reads ../shared; skipped where that checkout is absent)."""
    source = ROOT.parent / "shared" / "corpora" / "en_ewt" / f"{name}.tsv"
    if not source.is_file():
        pytest.skip(f"{source} is absent: the shared data checkout is not beside this clone")
    expected = read_source(source)
    shipped = [[(token.text, token.tag_) for token in doc] for doc in read(ROOT / "corpus" / f"{name}.spacy")]
    assert len(shipped) == len(expected), f"{len(shipped)} Docs for {len(expected)} sentences"
    for number, (doc, sentence) in enumerate(zip(shipped, expected), start=1):
        assert doc == sentence, f"sentence {number} of {source.name} differs"


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


def test_command_passes_its_options(tmp_path):
    """`python -m spacy lstm-tagger convert` with --format and --tag-column; a bad choice is a usage error."""
    source = tmp_path / "sentence.txt"
    source.write_text(CONLLU, encoding="utf8")
    command = [sys.executable, "-m", "spacy", "lstm-tagger", "convert", source, tmp_path / "out.spacy",
               "--format", "conllu"]
    result = subprocess.run([*command, "--tag-column", "upos"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Wrote 1 docs to {tmp_path / 'out.spacy'}\n"
    assert [t.tag_ for t in read(tmp_path / "out.spacy")[0]] == ["AUX", "PART", "VERB", "PUNCT"]
    wrong = subprocess.run([*command, "--tag-column", "lemma"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "--tag-column" in wrong.stderr
