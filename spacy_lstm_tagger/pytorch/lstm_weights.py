"""Where an nn.LSTM keeps each layer's weights, and the dropout between its layers."""
from typing import List, Tuple

import torch
from torch import nn

from .dropout import apply_dropout

WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def layer_weights(lstm: nn.LSTM, layer: int, backward: bool = False) -> Tuple[torch.Tensor, ...]:
    """(weight_ih, weight_hh, bias_ih, bias_hh) of one direction of one layer."""
    suffix = f"_l{layer}" + ("_reverse" if backward else "")
    return tuple(getattr(lstm, name + suffix) for name in WEIGHT_NAMES)


def directions(lstm: nn.LSTM) -> List[bool]:
    """Each direction's `backward` flag: [False], or [False, True] for a bidirectional LSTM."""
    return [False, True] if lstm.bidirectional else [False]


def zero_cell_input(lstm: nn.LSTM, layer: int) -> None:
    """Set one layer's cell-input gate (torch's third block of gates, g) to zero in every
    direction: the layer's cells, and so its states, then start at zero."""
    rows = slice(2 * lstm.hidden_size, 3 * lstm.hidden_size)
    with torch.no_grad():
        for backward in directions(lstm):
            for weight in layer_weights(lstm, layer, backward):
                weight[rows].zero_()


def layer_input(hidden: torch.Tensor, layer: int, dropout: float) -> torch.Tensor:
    """A layer's input from the layer below's output: dropout between layers, none before the first."""
    return apply_dropout(hidden, dropout) if layer else hidden
