"""Draw the report's confusion matrix as a PNG heatmap (matplotlib, imported only when drawing).

A bare `Figure` renders with the Agg backend and leaves pyplot's global state alone.
"""
from pathlib import Path
from typing import List


def plot_confusions(tags: List[str], counts: List[List[int]], path: Path, title: str = "") -> None:
    """Write a heatmap of gold (rows) against predicted (columns) tags.

    Colour is the share of the gold row, so the diagonal shows each tag's recall; cells with
    tokens also show their count.

    tags (List[str]): Row and column labels.
    counts (List[List[int]]): counts[gold][predicted], in the order of `tags`.
    path (Path): The PNG file to write.
    title (str): The figure's title.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("The report's plot needs matplotlib: pip install 'spacy-lstm-tagger[report]'") from error

    shares = [[count / max(sum(row), 1) for count in row] for row in counts]
    size = 2.5 + 0.42 * len(tags)
    figure = Figure(figsize=(size + 1.5, size))
    axes = figure.subplots()
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(tags)), labels=tags, rotation=90)
    axes.set_yticks(range(len(tags)), labels=tags)
    axes.set_xlabel("predicted tag")
    axes.set_ylabel("gold tag")
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            if count:
                colour = "white" if shares[i][j] > 0.5 else "black"
                axes.text(j, i, str(count), ha="center", va="center", fontsize=6, color=colour)
    figure.colorbar(image, ax=axes, label="share of the gold tag's tokens")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
