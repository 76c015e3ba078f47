"""pytorch/ is plain torch: importing all of it loads neither spaCy nor Thinc."""
import subprocess
import sys

from conftest import ROOT

MODULES = ["char_cnn", "columns", "dropout", "execution", "first_gates", "gate_tables", "int8", "lstm_weights", "network", "numpy_steps",
           "packing", "padded_lstm", "row_cache", "threads", "windows"]


def test_pytorch_imports_neither_spacy_nor_thinc():
    assert sorted(MODULES) == sorted(p.stem for p in (ROOT / "spacy_lstm_tagger" / "pytorch").glob("*.py")
                                     if p.stem != "__init__")
    code = ("import sys\n" + "".join(f"import spacy_lstm_tagger.pytorch.{name}\n" for name in MODULES)
            + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('spacy', 'thinc')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
