"""Int8 weights for CPU tagging: torch's dynamic quantization of the LSTM and the output layer.

Why `torch.ao.quantization` and not torchao: torchao's `quantize_` (0.18) converts `nn.Linear`
layers only and has no LSTM, which does most of the work here. `torch.ao.quantization` is the one
maintained API with int8 LSTM kernels (x86/fbgemm, qnnpack). It is deprecated in favour of
torchao but ships in every torch this package supports (2.1 to 2.13); if a later torch drops it,
`quantize = true` fails with a message that says so.
"""
import copy
import warnings

import torch
from torch import nn

# The two layers whose matrix products dominate tagging; the embeddings stay float.
QUANTIZED_LAYERS = ("lstm", "output")


def int8_copy(network: nn.Module) -> nn.Module:
    """A copy of the network for tagging on a CPU, with int8 weights in its LSTM and output
    layer; activations are quantized on the fly. The network itself is left as it is."""
    try:
        from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic
    except ImportError as error:
        raise ValueError(
            f"lstm_tagger: quantize = true needs torch.ao.quantization, which torch {torch.__version__} "
            f"lacks; set quantize = false, or use a torch up to 2.13"
        ) from error
    with warnings.catch_warnings():  # its deprecation notices, on every load: see the module docstring
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*torch.ao.quantization")
        warnings.filterwarnings("ignore", category=UserWarning, message=".*quantize_per_tensor")
        return quantize_dynamic(
            copy.deepcopy(network), {name: default_dynamic_qconfig for name in QUANTIZED_LAYERS}, dtype=torch.qint8
        )
