"""Figures as PNG bytes: matplotlib's Agg canvas, no pyplot (no global state, safe in worker threads), fixed size
and dpi and no metadata, so the same facts give byte-identical files on every run."""
from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.image import imsave
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from grader.report import Report

DPI = 80
COLORS = {"acc": "#1f77b4", "loss": "#d62728", "line": "#555555", "train": "#2ca02c", "test": "#9467bd"}


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    # metadata: Software (the matplotlib version) left out, so that the bytes depend on the facts only.
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def training_curve(report: Report, *, width: float = 7.0, height: float = 3.6) -> bytes | None:
    """Logged accuracy and loss per epoch, the threshold, the epoch that first passed it, the stop, the budget,
    and the re-measured train and test accuracy at the last epoch; None when no epoch was logged."""
    d = report.extra_data
    if not d.history:
        return None
    epochs = [e.epoch for e in d.history]
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot(1, 1, 1)
    accs = [np.nan if e.accuracy is None else e.accuracy for e in d.history]
    ax.plot(epochs, accs, marker="o", color=COLORS["acc"], label="logged accuracy")
    if d.threshold is not None:
        ax.axhline(d.threshold, color=COLORS["line"], linestyle="--", linewidth=1, label=f"threshold {d.threshold:g}")
        first = next((e.epoch for e in d.history if e.accuracy is not None and e.accuracy > d.threshold), None)
        if first is not None:
            ax.axvline(first, color=COLORS["acc"], linestyle=":", linewidth=1, label=f"first above: epoch {first}")
    if d.stop_epoch is not None:
        ax.axvline(d.stop_epoch, color=COLORS["line"], linestyle="-.", linewidth=1, label=f"stopped: epoch {d.stop_epoch}")
    last = epochs[-1]
    for value, key, label in ((d.train_accuracy, "train", "re-measured train"), (d.test_accuracy, "test", "re-measured test")):
        if value is not None:
            ax.plot([last], [value], marker="s" if key == "train" else "D", linestyle="none", color=COLORS[key],
                    label=f"{label} {value:.4f}")
    ax.set_xlim(0.5, max(d.epoch_budget, last) + 0.5)
    ax.set_xlabel(f"epoch (budget {d.epoch_budget})")
    ax.set_ylabel("accuracy")
    losses = [np.nan if e.loss is None else e.loss for e in d.history]
    if any(np.isfinite(losses)):
        twin = ax.twinx()
        twin.plot(epochs, losses, marker=".", color=COLORS["loss"], alpha=0.7, label="logged loss")
        twin.set_ylabel("loss", color=COLORS["loss"])
        handles, labels = ax.get_legend_handles_labels()
        more, more_labels = twin.get_legend_handles_labels()
        ax.legend(handles + more, labels + more_labels, fontsize=7, loc="center right")
    else:
        ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    return _png(fig)


def tiles(images: Sequence[np.ndarray], *, columns: int = 8, scale: int = 3, cmap: str = "gray",
          symmetric: bool = False, pad: int = 1, fixed_range: tuple[float, float] | None = None) -> bytes:
    """Images (of one size) as a mosaic PNG, each enlarged ``scale`` times without smoothing: a few milliseconds,
    where a grid of matplotlib axes takes a second. ``symmetric``: one diverging scale around 0 for all (weights);
    otherwise each image is scaled to its own range (pixels, feature maps), or all to ``fixed_range``."""
    arrays = [np.nan_to_num(np.asarray(i, dtype=np.float64)) for i in images]
    if fixed_range is not None:
        low, high = fixed_range
        arrays = [np.clip((a - low) / (high - low), 0.0, 1.0) for a in arrays]
    elif symmetric:
        bound = max((float(np.abs(a).max()) for a in arrays), default=1.0) or 1.0
        arrays = [(a / bound + 1) / 2 for a in arrays]
    else:
        arrays = [(a - a.min()) / (a.max() - a.min()) if a.max() > a.min() else np.zeros_like(a) for a in arrays]
    h, w = arrays[0].shape
    rows = max(1, -(-len(arrays) // columns))
    cols = min(columns, len(arrays))
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), np.nan)
    for n, a in enumerate(arrays):
        r, c = divmod(n, columns)
        canvas[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = a
    big = np.kron(canvas, np.ones((scale, scale)))
    colour = matplotlib.colormaps[cmap](np.nan_to_num(big, nan=0.0))
    colour[np.isnan(big)] = (1.0, 1.0, 1.0, 1.0)  # the gaps between tiles: white
    out = io.BytesIO()
    imsave(out, colour, format="png", metadata={"Software": None})  # type: ignore[dict-item]
    return out.getvalue()


def histogram(values: Sequence[float], *, bins: int | Sequence[float], xlabel: str, width: float = 4.5,
              height: float = 2.6) -> bytes:
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot(1, 1, 1)
    clean = [v for v in values if v is not None and np.isfinite(v)]
    ax.hist(clean, bins=bins, color=COLORS["acc"], edgecolor="white")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel("students", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)
