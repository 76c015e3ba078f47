"""`cpu_bfloat16`: CPU training runs the LSTM's kernels in bfloat16 where the CPU has native
bfloat16 instructions, float32 elsewhere (with a warning); tagging is float32 either way."""
import numpy
import pytest
import torch
from thinc.api import Adam

import spacy_lstm_tagger.pytorch.execution as execution
from conftest import train_tutorial_tagger, tutorial_examples

NATIVE = execution.native_bfloat16()


def lstm_dtypes(monkeypatch, nlp, native: bool) -> set:
    """The dtypes the LSTM kernels get in one update of `nlp`, on a CPU with or without native
    bfloat16."""
    seen = set()
    run = execution.run_lstm_by_length

    def recording(lstm, vectors, lengths, dropout, dtype, depth=None):
        seen.add(dtype)
        return run(lstm, vectors, lengths, dropout, dtype, depth)

    monkeypatch.setattr(execution, "run_lstm_by_length", recording)
    monkeypatch.setattr(execution, "native_bfloat16", lambda: native)
    nlp.update(tutorial_examples(nlp), sgd=Adam(0.001))
    return seen


@pytest.mark.parametrize("setting,native,expected", [
    (True, True, {torch.bfloat16}), (True, False, {torch.float32}), (False, True, {torch.float32}),
])
def test_the_setting_and_the_cpu_choose_the_kernels_dtype(monkeypatch, setting, native, expected):
    nlp = train_tutorial_tagger(steps=1, cpu_bfloat16=setting)
    assert lstm_dtypes(monkeypatch, nlp, native) == expected


def test_no_native_bfloat16_warns_once_and_trains_in_float32(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False, raising=False)
    execution.native_bfloat16.cache_clear()
    try:
        with pytest.warns(UserWarning, match="no native bfloat16 instructions .* training in float32"):
            assert execution.native_bfloat16() is False
    finally:
        execution.native_bfloat16.cache_clear()


@pytest.mark.skipif(not NATIVE, reason="no native bfloat16 on this CPU")
def test_a_bfloat16_trained_tagger_learns_and_tags_in_float32():
    nlp = train_tutorial_tagger(cpu_bfloat16=True)
    doc = nlp("The dog ate the apple")
    assert [t.tag_ for t in doc] == "DET NN V DET NN".split()
    docs = [nlp.make_doc("Everybody read that book")]
    tagger = nlp.get_pipe("lstm_tagger")
    float32 = train_tutorial_tagger(cpu_bfloat16=False).get_pipe("lstm_tagger")
    float32.model.from_bytes(tagger.model.to_bytes())  # the same weights, tagged without the setting
    numpy.testing.assert_array_equal(tagger.predict(docs)[0], float32.predict(docs)[0])
