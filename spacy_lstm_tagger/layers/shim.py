"""A PyTorchShim whose weights can be swapped for the optimizer's averages."""
import contextlib
from io import BytesIO
from typing import List

import torch
from torch.autograd.graph import increment_version
from thinc.api import PyTorchShim, torch2xp, xp2torch

from ..contract import WeightsError
from ..pytorch.network import LSTMEncoderNet, LSTMTaggerNet


class AveragingPyTorchShim(PyTorchShim):
    """PyTorchShim that honours Thinc's parameter averaging and saves a resizable network.

    Thinc's optimizer keys each torch parameter's running average as `(shim.id, name)`,
    but `PyTorchShim.use_params` only reads string keys, so spaCy would evaluate and
    save the raw weights. This shim reads the keys the optimizer writes.
    It also updates the weights in place: `PyTorchShim.finish_update` rebinds each
    parameter's `.data` to a new tensor on every step, which on the CPU chains the old
    buffers together and grows memory by about a megabyte a step.
    Every change it makes to a weight raises the weight's version, which is how the network
    knows to derive its gate tables and int8 copy again (pytorch/execution.py). Its weights load
    into a network first resized to the saved shapes, and tagging leaves the module's
    train/eval mode alone. `quantize` (not saved) asks the network to tag with
    int8 weights.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.quantize = False

    @property
    def module(self) -> torch.nn.Module:
        return self._model

    def predict(self, inputs):
        """The network's output, without gradients.

        PyTorchShim.predict switches the shared module to eval() and back to train() around
        each call, so one thread's forward pass could run in the mode another thread set.
        The network is told whether it trains instead, so its mode is left alone.
        """
        with torch.no_grad():
            return self._model(*inputs.args, **inputs.kwargs)

    def finish_update(self, optimizer) -> None:
        for name, parameter in self._model.named_parameters():
            if parameter.grad is None:
                continue
            if not self._grad_scaler.found_inf:  # skip the step if a gradient overflowed
                updated, _ = optimizer((self.id, name), torch2xp(parameter.data), torch2xp(parameter.grad))
                updated = xp2torch(updated, device=parameter.device)
                if updated.data_ptr() != parameter.data_ptr():
                    with torch.no_grad():
                        parameter.copy_(updated)
                else:  # changed in place through NumPy: torch must know, as for its own writes
                    increment_version(parameter)
            parameter.grad.zero_()
        self._grad_scaler.update()

    @contextlib.contextmanager
    def use_params(self, params):
        averages = {
            name: xp2torch(params[(self.id, name)], device=self.device)
            for name, _ in self._model.named_parameters()
            if (self.id, name) in params
        }
        if not averages:
            yield
            return
        backup = {name: value.clone() for name, value in self._model.state_dict().items()}
        self._model.load_state_dict(averages, strict=False)
        try:
            yield
        finally:
            self._model.load_state_dict(backup)


def serialize_network(network: torch.nn.Module) -> bytes:
    """Save the network's state_dict to bytes."""
    buffer = BytesIO()
    torch.save(network.state_dict(), buffer)
    return buffer.getvalue()


_CHANGED_SETTING = (
    "was a model setting such as attrs, prefix_lengths, suffix_lengths, char_width, embed_width, "
    "hidden_width, depth, bidirectional or include_static_vectors changed after training?"
)


def deserialize_network(network: LSTMEncoderNet, data: bytes, device: torch.device) -> LSTMEncoderNet:
    """Resize the network (a tagger's or an encoder's) to the shapes in `data`, then load its
    weights strictly.

    `map_location` puts the weights on `device`, so a network saved on a GPU loads on a CPU.
    """
    try:
        state = torch.load(BytesIO(data), map_location=device, weights_only=True)
    except Exception as error:
        raise WeightsError(f"lstm_tagger: the network weights are unreadable ({error})") from error
    n_tables = len(network.table_names())
    try:
        n_rows = [state[name].shape[0] for name in network.table_names()]
        n_labels = [state["output.weight"].shape[0]] if isinstance(network, LSTMTaggerNet) else []
    except KeyError as error:
        raise WeightsError(
            f"lstm_tagger: the saved weights lack {error}; they do not belong to a network "
            f"with {n_tables} feature tables as the config describes ({_CHANGED_SETTING})"
        ) from None
    network.to(device)
    network.resize(n_rows, *n_labels)
    if network.static_vectors is not None and "static_vectors.weight" in state:
        network.resize_static_vectors(state["static_vectors.weight"].shape[1])
    differences = _shape_differences(state, network.state_dict())
    if differences:
        raise WeightsError(
            f"lstm_tagger: the saved weights do not fit the network the config describes "
            f"({_CHANGED_SETTING}): " + "; ".join(differences)
        )
    network.load_state_dict(state)
    return network


def deserialize_linear(linear: torch.nn.Linear, data: bytes, device: torch.device) -> torch.nn.Linear:
    """A linear layer of the shape in `data` (saved by `serialize_network`), with its weights."""
    try:
        state = torch.load(BytesIO(data), map_location=device, weights_only=True)
        n_out, n_in = state["weight"].shape
    except Exception as error:
        raise WeightsError(f"lstm_tagger: the output layer's weights are unreadable ({error})") from error
    loaded = torch.nn.Linear(n_in, n_out, bias="bias" in state).to(device)
    loaded.load_state_dict(state)
    return loaded


def _shape_differences(saved: dict, configured: dict, limit: int = 4) -> List[str]:
    """Describe, in words, each parameter whose saved shape differs from the configured one."""
    differences = [
        f"{name} is {tuple(saved[name].shape)} in the weights but {tuple(tensor.shape)} in the config"
        for name, tensor in configured.items()
        if name in saved and saved[name].shape != tensor.shape
    ]
    differences += [f"{name} is in the weights but not in the config" for name in saved if name not in configured]
    differences += [f"{name} is in the config but not in the weights" for name in configured if name not in saved]
    if len(differences) > limit:
        differences = differences[:limit] + [f"{len(differences) - limit} more"]
    return differences
