"""The CPU dropout mask: drawn at the rate, scaled to keep the mean, fixed by torch's seed."""
import torch

from spacy_lstm_tagger.pytorch.dropout import apply_dropout


def test_the_cpu_mask_drops_at_the_rate_and_keeps_the_mean():
    vectors = torch.ones(1000, 1000)
    torch.manual_seed(0)
    dropped = apply_dropout(vectors, 0.25)
    assert abs(float((dropped == 0).float().mean()) - 0.25) < 0.002
    assert torch.equal(dropped.unique(), torch.tensor([0.0, 4 / 3]))
    torch.manual_seed(0)
    assert torch.equal(apply_dropout(vectors, 0.25), dropped)  # torch's seed fixes the mask
    assert not torch.equal(apply_dropout(vectors, 0.25), dropped)


def test_rate_0_returns_the_vectors_themselves():
    vectors = torch.ones(3, 4)
    assert apply_dropout(vectors, 0.0) is vectors
