"""The PyTorch network: feature embeddings -> (Bi)LSTM over packed sentences -> linear."""
import os
import warnings
from typing import List, Sequence

import numpy
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence


def _use_one_thread_after_fork() -> None:
    # A forked child (e.g. a worker of `nlp.pipe(n_process=2)`) deadlocks in the CPU
    # LSTM kernel if it inherits the parent's OpenMP thread pool. One thread each is
    # also what several worker processes want.
    torch.set_num_threads(1)


os.register_at_fork(after_in_child=_use_one_thread_after_fork)


class LSTMTaggerNet(nn.Module):
    """Embed each token's feature ids, run an LSTM over each sentence, score each tag.

    The embedding tables and the output layer are sized by `resize`, once the
    feature vocabularies and the label set are known. Row 0 of every table is
    the unknown-feature row.

    n_features (int): Number of feature ids per token (one table each).
    embed_width (int): Width of each feature's embedding.
    hidden_width (int): LSTM hidden size per direction.
    depth (int): Number of stacked LSTM layers.
    bidirectional (bool): Whether to run the LSTM in both directions.
    dropout (float): Dropout on embeddings, between LSTM layers and before the output.
    feature_dropout (float): While training, chance of replacing a feature id with
        the unknown row, so that the network learns to tag unseen words.
    """

    def __init__(
        self,
        n_features: int,
        embed_width: int,
        hidden_width: int,
        depth: int,
        bidirectional: bool,
        dropout: float,
        feature_dropout: float,
    ):
        super().__init__()
        self.embed_width = embed_width
        self.feature_dropout = feature_dropout
        self.embeddings = nn.ModuleList(nn.Embedding(1, embed_width) for _ in range(n_features))
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(
            n_features * embed_width,
            hidden_width,
            num_layers=depth,
            bidirectional=bidirectional,
            dropout=dropout if depth > 1 else 0.0,
        )
        self.output_width = hidden_width * (2 if bidirectional else 1)
        with warnings.catch_warnings():  # no labels yet: torch warns about initializing 0 rows
            warnings.simplefilter("ignore", UserWarning)
            self.output = nn.Linear(self.output_width, 0)

    @property
    def n_labels(self) -> int:
        return self.output.out_features

    @property
    def n_rows(self) -> List[int]:
        return [table.num_embeddings for table in self.embeddings]

    def resize(self, n_rows: Sequence[int], n_labels: int) -> None:
        """Give the embedding tables and the output layer their sizes, on the LSTM's device."""
        if len(n_rows) != len(self.embeddings):
            raise ValueError(f"Expected {len(self.embeddings)} table sizes, got {len(n_rows)}")
        device = next(self.lstm.parameters()).device
        self.embeddings = nn.ModuleList(nn.Embedding(n, self.embed_width) for n in n_rows).to(device)
        self.output = nn.Linear(self.output_width, n_labels).to(device)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Score the tags of a batch of sentences laid end to end.

        ids (torch.Tensor): int64 (n_tokens, n_features), the sentences concatenated.
        lengths (torch.Tensor): int64 on the CPU, each sentence's length, none zero.
        RETURNS (torch.Tensor): Logits (n_tokens, n_labels), in the order of `ids`.
        """
        if ids.shape[0] == 0:
            return self.output.weight.new_zeros((0, self.n_labels))
        if self.training and self.feature_dropout > 0:
            unknown = torch.rand(ids.shape, device=ids.device) < self.feature_dropout
            ids = ids.masked_fill(unknown, 0)
        order, batch_sizes = packing_order(lengths)
        order = order.to(ids.device)
        packed_ids = ids[order]
        vectors = torch.cat([table(packed_ids[:, i]) for i, table in enumerate(self.embeddings)], dim=1)
        hidden, _ = self.lstm(PackedSequence(self.dropout(vectors), batch_sizes))
        packed_logits = self.output(self.dropout(hidden.data))
        logits = torch.empty_like(packed_logits)
        logits[order] = packed_logits
        return logits


def packing_order(lengths: torch.Tensor):
    """Where each step of a PackedSequence reads from, for sentences laid end to end.

    Vectorized over the whole batch, in NumPy (small CPU ops cost less there): no tensor
    per sentence, and no padded matrix, so a batch of many short sentences beside one
    very long one stays cheap.

    lengths (torch.Tensor): int64 on the CPU, each sentence's length, none zero.
    RETURNS (Tuple[torch.Tensor, torch.Tensor]): The token index of each packed row, and
        the PackedSequence's batch sizes (sentences still running at each time step).
    """
    lengths = lengths.numpy()
    by_length = numpy.argsort(-lengths, kind="stable")
    starts = (numpy.cumsum(lengths) - lengths)[by_length]
    max_length = int(lengths[by_length[0]])
    ended_by = numpy.cumsum(numpy.bincount(lengths, minlength=max_length + 1))[:max_length]
    batch_sizes = len(lengths) - ended_by
    step_starts = numpy.cumsum(batch_sizes) - batch_sizes
    steps = numpy.repeat(numpy.arange(max_length), batch_sizes)
    ranks = numpy.arange(len(steps)) - numpy.repeat(step_starts, batch_sizes)
    return torch.from_numpy(starts[ranks] + steps), torch.from_numpy(batch_sizes)
