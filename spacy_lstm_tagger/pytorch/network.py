"""The tagger's network: feature embeddings (and a character CNN) -> (Bi)LSTM (the encoder) -> linear."""
import warnings
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import nn

from . import threads  # noqa: F401  (one torch thread in forked children)
from .char_cnn import CharCNN
from .columns import NEW_VALUE_HASHES, NEW_VALUE_SCALE, IdColumns
from .lstm_weights import zero_cell_input


class InputParts(NamedTuple):
    """What each token's input vector is made of, before it is put together: every path of
    `execution.py` reads these, and combines them its own way."""

    feature_ids: torch.Tensor  # (n_tokens, n_features): each feature's table row
    new_rows: Optional[Tuple[torch.Tensor, torch.Tensor]]  # (tokens, their summed new-value rows)
    chars: Optional[torch.Tensor]  # (n_tokens, char width): the character CNN's output
    static: Optional[torch.Tensor]  # (n_tokens, vectors width): each token's static vector


class LSTMEncoderNet(nn.Module):
    """Embed each token's feature ids, run an LSTM over each sentence: one row of LSTM states
    per token (the forward direction's, then the backward's).

    The embedding tables are sized by `resize`, once the feature vocabularies are known. Row 0
    of every table is the unknown-feature row. `forward` is told whether it trains and at what
    dropout rates, and leaves how it runs to `execution.run`; the module's train/eval mode is
    never read, so that threads tagging at once cannot change each other's results.

    columns (IdColumns): The layout of the id matrix the feature layer writes.
    embed_width (int): Width of each feature's embedding.
    hidden_width (int): LSTM hidden size per direction.
    depth (int): Number of stacked LSTM layers.
    bidirectional (bool): Whether to run the LSTM in both directions.
    char_width (int): Output width of the character CNN over the character columns (0: none).
    new_value_rows (int): Rows of a hashed table, shared by the features, whose rows are added
        (times NEW_VALUE_SCALE) to the unknown row of a value the feature tables were built
        without. It starts at zero, so it changes nothing until training shows such values
        (0: no such table; `columns.new_values` must agree).
    static_vectors (bool): Add a learned linear projection of each token's static vector
        (given to `forward`) to its embeddings; `resize_static_vectors` sets the vectors' width.
    cpu_bfloat16 (bool): Train the LSTM's kernels in bfloat16 on a CPU that has native
        bfloat16 instructions (see `execution.native_bfloat16`).
    """

    GIVES_STATES = True  # `forward` gives the LSTM states; an LSTMTaggerNet, the tag logits

    def __init__(
        self,
        columns: IdColumns,
        embed_width: int,
        hidden_width: int,
        depth: int,
        bidirectional: bool,
        char_width: int = 0,
        new_value_rows: int = 0,
        static_vectors: bool = False,
        cpu_bfloat16: bool = False,
    ):
        super().__init__()
        if columns.new_values != bool(new_value_rows):
            raise ValueError("lstm_tagger: the id columns and the network disagree on new-value rows")
        self.columns = columns
        self.cpu_bfloat16 = cpu_bfloat16
        self.embed_width = embed_width
        self.generation = 0  # raised whenever `resize` replaces parameters
        self.embeddings = nn.ModuleList(nn.Embedding(1, embed_width) for _ in range(columns.n_features))
        self.chars = CharCNN(char_width) if char_width else None
        self.new_values = None
        if new_value_rows:
            self.new_values = nn.Embedding(new_value_rows + 1, embed_width, padding_idx=0)
            nn.init.zeros_(self.new_values.weight)
        input_width = columns.n_features * embed_width + char_width
        # Its dropout between layers is applied by execution.py, never by the module.
        self.lstm = nn.LSTM(input_width, hidden_width, num_layers=depth, bidirectional=bidirectional)
        self.output_width = hidden_width * (2 if bidirectional else 1)
        self.static_vectors = nn.Linear(1, input_width, bias=False) if static_vectors else None

    def table_names(self) -> List[str]:
        """The state_dict names of the embedding tables `resize` sizes, in its order."""
        names = [f"embeddings.{i}.weight" for i in range(len(self.embeddings))]
        return names + (["chars.embedding.weight"] if self.chars is not None else [])

    def resize(self, n_rows: Sequence[int]) -> None:
        """Give the embedding tables (the features', then the characters') their sizes, on the
        LSTM's device."""
        if len(n_rows) != len(self.table_names()):
            raise ValueError(f"Expected {len(self.table_names())} table sizes, got {len(n_rows)}")
        device = next(self.lstm.parameters()).device
        n_features = len(self.embeddings)
        self.embeddings = nn.ModuleList(
            nn.Embedding(n, self.embed_width) for n in n_rows[:n_features]
        ).to(device)
        if self.chars is not None:
            self.chars.resize(n_rows[n_features])
        self._replaced()

    def resize_static_vectors(self, width: int) -> None:
        """Give the static vectors' projection the vectors' width, on its device."""
        device = self.static_vectors.weight.device
        self.static_vectors = nn.Linear(width, self.static_vectors.out_features, bias=False).to(device)
        self._replaced()

    def start_with_zero_states(self) -> None:
        """Start the top LSTM layer's states at zero (its cell-input gate at zero), whatever
        the input: a linear layer on them then starts with the same scores for every token."""
        zero_cell_input(self.lstm, self.lstm.num_layers - 1)
        self._replaced()

    def _replaced(self) -> None:
        """Parameters were replaced: drop what execution.py derived from the old ones."""
        self.generation += 1
        self.__dict__.pop("_derived", None)

    def forward(
        self,
        ids: torch.Tensor,
        lengths: torch.Tensor,
        static: Optional[torch.Tensor] = None,
        *,
        training: bool = False,
        dropout: float = 0.0,
        feature_dropout: float = 0.0,
        quantize: bool = False,
        depth: Optional[int] = None,
    ) -> torch.Tensor:
        """Run the network over a batch of sentences laid end to end.

        ids (torch.Tensor): int64 (n_tokens, columns.width), the sentences concatenated.
        lengths (torch.Tensor): int64 on the CPU, each sentence's length, none zero.
        static (Optional[torch.Tensor]): float (n_tokens, width), each token's static vector,
            in the order of `ids`, if the network has a projection for them.
        training (bool): Whether gradients will flow back (Thinc's `is_train`).
        dropout (float): Dropout rate on the embeddings, between LSTM layers and on the LSTM's
            output (training only).
        feature_dropout (float): Chance of replacing each feature with the unknown one
            (training only).
        quantize (bool): Tag with int8 weights in the LSTM and output layer (LSTMTaggerNet, CPU,
            tagging only).
        depth (Optional[int]): Run only the first layers (LSTMEncoderNet; the first layer's
            directions have each read one side of the token only). None: all of them.
        RETURNS (torch.Tensor): In the order of `ids`, the LSTM states (n_tokens, output_width)
            of an LSTMEncoderNet, or the tag logits (n_tokens, n_labels) of an LSTMTaggerNet.
        """
        from .execution import run  # execution.py builds on this module

        return run(self, ids, lengths, static, training=training, dropout=dropout, feature_dropout=feature_dropout,
                   quantize=quantize, states=self.GIVES_STATES, depth=depth)

    def input_parts(self, ids: torch.Tensor, static: Optional[torch.Tensor] = None) -> InputParts:
        """The pieces of each token's input vector (see InputParts)."""
        chars = self.chars(ids[:, self.columns.chars]) if self.chars is not None else None
        return InputParts(ids[:, self.columns.features], self.new_value_rows(ids), chars, static)

    def embed(self, parts: InputParts) -> torch.Tensor:
        """Each token's input vector: its features' rows (plus their new-value rows), then the
        character CNN's output; plus the projection of its static vector, if given."""
        vectors = [table(parts.feature_ids[:, i]) for i, table in enumerate(self.embeddings)]
        if parts.new_rows is not None:
            tokens, rows = parts.new_rows
            vectors = [torch.cat(vectors, dim=1).index_add(0, tokens, rows, alpha=NEW_VALUE_SCALE)]
        if parts.chars is not None:
            vectors.append(parts.chars)
        if parts.static is None:
            return torch.cat(vectors, dim=1)
        return torch.cat(vectors, dim=1) + self.static_vectors(parts.static.to(vectors[0].dtype))

    def new_value_rows(self, ids: torch.Tensor) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
        """The tokens with a value `initialize` never saw, and their new-value rows summed per
        feature, (n, n_features x embed width), before NEW_VALUE_SCALE; None if no token has one.
        Only those tokens read the table: the others' rows are zero."""
        if self.new_values is None:
            return None
        new_ids = ids[:, self.columns.new]
        tokens = new_ids.any(dim=1).nonzero().squeeze(1)
        if not len(tokens):
            return None
        rows = self.new_values(new_ids[tokens]).view(len(tokens), self.columns.n_features, NEW_VALUE_HASHES, -1)
        return tokens, rows.sum(dim=2).flatten(1)

    def drop_features(self, ids: torch.Tensor, rate: float) -> torch.Tensor:
        """`ids` with each feature replaced by the unknown one with probability `rate` (and its
        new-value rows with it); the character columns stay."""
        columns = self.columns
        unknown = torch.rand((ids.shape[0], columns.n_features), device=ids.device) < rate
        parts = [ids[:, columns.features].masked_fill(unknown, 0), ids[:, columns.chars]]
        if columns.n_new:
            parts.append(ids[:, columns.new].masked_fill(unknown.repeat_interleave(NEW_VALUE_HASHES, dim=1), 0))
        return torch.cat(parts, dim=1)

    def __getstate__(self) -> dict:
        """Pickled and deep-copied without what execution.py derives from the weights."""
        state = dict(self.__dict__)
        state.pop("_derived", None)
        return state


class LSTMTaggerNet(LSTMEncoderNet):
    """The encoder network with a linear output layer: tag scores for each token (the
    `spacy_lstm_tagger.LSTMTagger.v1` and v2 architectures' network, one torch module).

    The output layer is sized by `resize`, with the tables, once the labels are known.
    zero_output (bool): Start the output layer at zero, so that every tag starts equally
        likely, as spaCy's Softmax_v2 does.
    The other arguments are LSTMEncoderNet's.
    """

    GIVES_STATES = False

    def __init__(self, columns: IdColumns, embed_width: int, hidden_width: int, depth: int, bidirectional: bool,
                 char_width: int = 0, new_value_rows: int = 0, zero_output: bool = False,
                 static_vectors: bool = False, cpu_bfloat16: bool = False):
        super().__init__(columns, embed_width, hidden_width, depth, bidirectional, char_width, new_value_rows,
                         static_vectors, cpu_bfloat16)
        self.zero_output = zero_output
        with warnings.catch_warnings():  # no labels yet: torch warns about initializing 0 rows
            warnings.simplefilter("ignore", UserWarning)
            self.output = nn.Linear(self.output_width, 0)

    @classmethod
    def joining(cls, encoder: LSTMEncoderNet, output: nn.Linear) -> "LSTMTaggerNet":
        """A tagger network made of an encoder network's modules and an output layer (shared,
        not copied), so that tagging can run them in one pass (the v3 architecture keeps them
        apart). Made again when either replaces parameters: see `LSTMEncoderNet.generation`."""
        network = cls.__new__(cls)
        nn.Module.__init__(network)
        for name in ("columns", "cpu_bfloat16", "embed_width", "output_width", "generation"):
            setattr(network, name, getattr(encoder, name))
        for name in ("embeddings", "chars", "new_values", "lstm", "static_vectors"):
            setattr(network, name, getattr(encoder, name))
        network.zero_output = False
        network.output = output
        return network

    @property
    def n_labels(self) -> int:
        return self.output.out_features

    def resize(self, n_rows: Sequence[int], n_labels: int) -> None:
        """Give the embedding tables (the features', then the characters') and the output
        layer their sizes, on the LSTM's device."""
        super().resize(n_rows)
        device = next(self.lstm.parameters()).device
        self.output = nn.Linear(self.output_width, n_labels).to(device)
        if self.zero_output:
            nn.init.zeros_(self.output.weight)
            nn.init.zeros_(self.output.bias)
        self._replaced()
