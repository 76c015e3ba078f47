"""The character CNN: padding takes no part in the pooling; a large batch encodes each word once."""
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


def test_a_large_batch_computes_each_distinct_word_once_to_the_same_result():
    from spacy_lstm_tagger.pytorch import char_cnn

    torch.manual_seed(0)
    cnn = CharCNN(width=4)
    cnn.resize(10)
    words = torch.randint(0, 10, (8, 5)).repeat(char_cnn.DISTINCT_FROM // 8 + 1, 1)
    encoded = []
    cnn._encode = lambda ids, encode=cnn._encode: encoded.append(len(ids)) or encode(ids)
    with torch.no_grad():
        whole = cnn(words)
        one_by_one = torch.cat([cnn(word[None]) for word in words])
    assert encoded[0] == len(torch.unique(words, dim=0)) <= 8 and encoded[1:] == [1] * len(words)
    torch.testing.assert_close(whole, one_by_one)
