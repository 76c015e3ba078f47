"""Draw the report's confusion matrix as a PNG heatmap (matplotlib, imported only when drawing).

A bare `Figure` renders with the Agg backend and leaves pyplot's global state alone.
"""
from pathlib import Path
from typing import List

import numpy


def plot_confusions(tags: List[str], counts: List[List[int]], path: Path, title: str = "") -> None:
    """Write a heatmap of gold (rows) against predicted (columns) tags.

    Each cell with tokens shows its count; the colour follows the count on a log scale, so that
    confusions of a few dozen tokens stand out beside diagonals of thousands.

    tags (List[str]): Row and column labels.
    counts (List[List[int]]): counts[gold][predicted], in the order of `tags`.
    path (Path): The PNG file to write.
    title (str): The figure's title.
    """
    try:
        from matplotlib.colors import LogNorm
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("The report's plot needs matplotlib: pip install 'spacy-lstm-tagger[report]'") from error

    counts = numpy.asarray(counts)
    norm = LogNorm(vmin=1, vmax=max(int(counts.max()), 2))
    size = 2.5 + 0.42 * len(tags)
    figure = Figure(figsize=(size + 1.5, size))
    axes = figure.subplots()
    image = axes.imshow(numpy.ma.masked_equal(counts, 0), cmap="Blues", norm=norm)
    axes.set_xticks(range(len(tags)), labels=tags, rotation=90)
    axes.set_yticks(range(len(tags)), labels=tags)
    axes.set_xlabel("predicted tag")
    axes.set_ylabel("gold tag")
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            if count:
                colour = "white" if norm(count) > 0.6 else "black"
                axes.text(j, i, str(count), ha="center", va="center", fontsize=6, color=colour)
    figure.colorbar(image, ax=axes, shrink=0.8, label="tokens (log scale)")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def plot_reliability(calibration: dict, path: Path, title: str = "") -> None:
    """Write a reliability diagram: each confidence bin's accuracy against its mean confidence.

    Bars show each non-empty bin's accuracy, dots its mean confidence, and the diagonal is perfect
    calibration; the lower panel gives each bin's share of tokens (log scale).

    calibration (dict): `confidence.calibration_summary`'s output.
    path (Path): The PNG file to write.
    title (str): The figure's title.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("The report's plot needs matplotlib: pip install 'spacy-lstm-tagger[report]'") from error

    bins = [b for b in calibration["bins"] if b["tokens"]]
    centres = [(b["lower"] + b["upper"]) / 2 for b in bins]
    width = calibration["bins"][0]["upper"] - calibration["bins"][0]["lower"]
    figure = Figure(figsize=(6, 7))
    top, bottom = figure.subplots(2, 1, height_ratios=[3, 1], sharex=True)
    top.bar(centres, [b["accuracy"] for b in bins], width=width * 0.9, color="tab:blue", label="accuracy")
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    top.scatter([b["confidence"] for b in bins], [b["confidence"] for b in bins], color="tab:red", zorder=3,
                s=18, label="mean probability")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.legend(loc="upper left")
    top.text(0.98, 0.05, f"ECE {100 * calibration['ece']:.2f}%\n{calibration['tokens']} tokens",
             ha="right", va="bottom", transform=top.transAxes)
    bottom.bar(centres, [b["tokens"] / calibration["tokens"] for b in bins], width=width * 0.9, color="tab:grey")
    bottom.set_yscale("log")
    bottom.set_ylabel("share of tokens")
    bottom.set_xlabel("probability of the predicted tag (token._.tag_prob)")
    if title:
        top.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
