"""Small networks and random ids for the torch-only tests."""
import torch

from spacy_lstm_tagger.pytorch.columns import NEW_VALUE_HASHES, IdColumns
from spacy_lstm_tagger.pytorch.network import LSTMTaggerNet

N_FEATURES, N_CHARS = 3, 6


def small_network(bidirectional=True, depth=2, char_width=8, new_value_rows=10, static_width=0) -> LSTMTaggerNet:
    """A network with 3 features, 4 labels and random weights (new-value rows too)."""
    torch.manual_seed(0)
    columns = IdColumns(N_FEATURES, N_CHARS if char_width else 0, bool(new_value_rows))
    net = LSTMTaggerNet(columns, embed_width=4, hidden_width=5, depth=depth, bidirectional=bidirectional,
                        char_width=char_width, new_value_rows=new_value_rows, static_vectors=bool(static_width))
    net.resize([7, 6, 9] + ([12] if char_width else []), n_labels=4)
    if static_width:
        net.resize_static_vectors(static_width)
    if new_value_rows:
        torch.nn.init.normal_(net.new_values.weight[1:])
    return net


def ids_and_lengths(net: LSTMTaggerNet, lengths, seed: int = 1):
    """Random ids in the network's column layout (about 30% of tokens with new-value rows)."""
    generator = torch.Generator().manual_seed(seed)
    n = sum(lengths)
    columns = [torch.randint(0, table.num_embeddings, (n, 1), generator=generator) for table in net.embeddings]
    if net.chars is not None:
        columns.append(torch.randint(0, net.chars.embedding.num_embeddings, (n, N_CHARS), generator=generator))
    if net.new_values is not None:
        new = torch.randint(1, net.new_values.num_embeddings, (n, N_FEATURES * NEW_VALUE_HASHES), generator=generator)
        columns.append(new * (torch.rand((n, 1), generator=generator) < 0.3))
    return torch.cat(columns, dim=1), torch.tensor(lengths)
