"""A character CNN over each word: embeddings, 3-character windows, max-pooling."""
from typing import Tuple

import numpy
import torch
from torch import nn


DISTINCT_FROM = 64


class CharCNN(nn.Module):
    """Embed each character of a word, convolve over 3-character windows, max-pool.

    The convolution is one matrix product over the windows laid side by side: on a CPU,
    `Conv1d` with so few channels is several times slower. Character id 0 is padding: its
    embedding is zero and it takes no part in the pooling.
    """

    def __init__(self, width: int, embed_width: int = 16):
        super().__init__()
        self.embed_width = embed_width
        self.embedding = nn.Embedding(2, embed_width, padding_idx=0)
        self.window = nn.Linear(3 * embed_width, width)

    def resize(self, n_rows: int) -> None:
        """Give the character table its size, on the convolution's device."""
        self.embedding = nn.Embedding(n_rows, self.embed_width, padding_idx=0).to(self.window.weight.device)

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        """char_ids: int64 (n_words, n_chars) -> float (n_words, width), computed once for each
        distinct row of a batch of at least DISTINCT_FROM words (a batch repeats its frequent
        words many times; a sentence, rarely enough to pay for finding them)."""
        if len(char_ids) < DISTINCT_FROM:
            return self._encode(char_ids)
        distinct, inverse = unique_rows(char_ids)
        return self._encode(distinct)[inverse]

    def _encode(self, char_ids: torch.Tensor) -> torch.Tensor:
        chars = nn.functional.pad(self.embedding(char_ids), (0, 0, 1, 1))  # a zero row at each end
        windows = torch.cat([chars[:, :-2], chars[:, 1:-1], chars[:, 2:]], dim=2)
        # In place: a fresh (n_words, n_chars, width) tensor costs more in page faults than in work.
        hidden = self.window(windows).masked_fill_((char_ids == 0).unsqueeze(2), 0.0).relu_()
        return hidden.amax(dim=1)


def unique_rows(ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The distinct rows of a 2D int64 tensor, and for each row the index of its distinct row.

    On the CPU in NumPy, each row viewed as one opaque value: several times faster than
    torch.unique(dim=0), which sorts column by column.
    """
    if ids.device.type != "cpu":
        return torch.unique(ids, dim=0, return_inverse=True)
    array = numpy.ascontiguousarray(ids.numpy())
    rows = array.view(numpy.dtype((numpy.void, array.dtype.itemsize * array.shape[1]))).reshape(-1)
    _, first, inverse = numpy.unique(rows, return_index=True, return_inverse=True)
    return ids[torch.from_numpy(first)], torch.from_numpy(inverse.reshape(-1))
