"""The PyTorch network: feature embeddings -> (Bi)LSTM over packed sentences -> linear."""
import os
import warnings
from typing import List, Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_sequence


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
        vectors = torch.cat([table(ids[:, i]) for i, table in enumerate(self.embeddings)], dim=1)
        order = pack_sequence(
            torch.split(torch.arange(ids.shape[0], device=ids.device), lengths.tolist()),
            enforce_sorted=False,
        )
        packed = PackedSequence(
            self.dropout(vectors)[order.data],
            order.batch_sizes,
            order.sorted_indices,
            order.unsorted_indices,
        )
        hidden, _ = self.lstm(packed)
        packed_logits = self.output(self.dropout(hidden.data))
        logits = torch.empty_like(packed_logits)
        logits[order.data] = packed_logits
        return logits
