"""The character CNN: padding takes no part in the pooling."""
import torch

from spacy_lstm_tagger.pytorch.char_cnn import CharCNN


def test_padding_takes_no_part_in_the_pooling():
    torch.manual_seed(0)
    cnn = CharCNN(width=4)
    cnn.resize(10)
    with torch.no_grad():
        cnn.window.bias.fill_(5.0)  # padded positions would win the max if they were pooled
        word = torch.tensor([[3, 4, 5]])
        padded = torch.tensor([[3, 4, 5, 0, 0, 0]])
        torch.testing.assert_close(cnn(padded), cnn(word))
        assert cnn(torch.zeros((1, 6), dtype=torch.int64)).abs().sum() == 0
