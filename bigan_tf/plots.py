"""The pictures of a run: learning curves, embeddings, confusion (matplotlib, headless).

* `plot_learning_curves(records, path)`: one run's metrics against epoch, the
  learning-rate decay phase shaded; the run driver writes it as `curves.png`
  at every evaluation.
* `plot_groups(groups, path)`: several runs overlaid, one line per group; a
  group of several runs (seeds) is drawn as its mean with a min..max band
  (`trainers.plot_runs`, `benchmarks.reproduce_mnist`).
* `plot_embedding`, `plot_confusion`: a t-SNE scatter with a class legend
  (`trainers.embed`) and a confusion matrix (`trainers.eval_ssgan`).
* `plot_transfer`: accuracy against labels per class (`benchmarks/bench_transfer.py`).
* `plot_image_panels`: image grids in titled rows (`trainers.visualize`).

A panel shows the first metric of its list that the records have (a plain
GAN reports NNC_d where a BiGAN reports NNC_e-); panels no record has are left
out. PNGs are written through a temporary file and a rename.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from bigan_tf.array_types import Array

Record = Dict
# (title, [(label, value of a record or None)]) per panel.
Panel = Tuple[str, List[Tuple[str, Callable[[Record], Optional[float]]]]]


def _metric(*names: str) -> Callable[[Record], Optional[float]]:
    """The first of `names` in a record's metrics (or losses), else None."""

    def value(record: Record) -> Optional[float]:
        for name in names:
            for section in ("metrics", "losses"):
                if name in record.get(section, {}):
                    return float(record[section][name])
        return None

    return value


def _ratio(record: Record) -> Optional[float]:
    metrics = record.get("metrics", {})
    if metrics.get("EGr_b"):
        return float(metrics["EGr"]) / float(metrics["EGr_b"])
    return None


# One run's curves: every metric the protocol reports, and the losses.
RUN_PANELS: List[Panel] = [
    (
        "1-NN accuracy (%)",
        [("NNC_e-", _metric("NNC_e-")), ("NNC_e", _metric("NNC_e")), ("NNC_d", _metric("NNC_d"))],
    ),
    # A BiGAN's linear probes, or a trained classifier's test accuracy (SSGAN, transfer).
    (
        "classification accuracy (%)",
        [
            ("CLS_e- (linear probe)", _metric("CLS_e-")),
            ("CLS_d (linear probe)", _metric("CLS_d")),
            ("test ACC", _metric("ACC")),
        ],
    ),
    (
        "reconstruction ‖x − G(E(x))‖",
        [("EGr", _metric("EGr")), ("EGr_b (baseline)", _metric("EGr_b"))],
    ),
    (
        "nearest generated sample (NND)",
        [("NND", _metric("NND")), ("NND/10", _metric("NND/10")), ("NND/100", _metric("NND/100"))],
    ),
    ("losses (cost line)", [(k, _metric(k)) for k in ("JD", "D", "E", "G", "S")]),
]

# Several runs: one number per panel, comparable across objectives.
COMPARE_PANELS: List[Panel] = [
    ("1-NN accuracy on features (%)", [("", _metric("NNC_e-", "NNC_d"))]),
    ("classification accuracy (%)", [("", _metric("CLS_e-", "CLS_d", "ACC"))]),
    ("EGr / EGr_b (lower is better)", [("", _ratio)]),
    ("NND (lower is better)", [("", _metric("NND"))]),
]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless; a no-op when already selected
    import matplotlib.pyplot as plt

    return plt


def _series(runs: Sequence[Sequence[Record]], value) -> Tuple[List[int], List[List[float]]]:
    """Epochs and, per epoch, the values of every run that has one."""
    by_epoch: Dict[int, List[float]] = {}
    for records in runs:
        for record in records:
            v = value(record)
            if v is not None:
                by_epoch.setdefault(int(record["epoch"]), []).append(v)
    epochs = sorted(by_epoch)
    return epochs, [by_epoch[e] for e in epochs]


def _save(figure, path: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = f"{path}.tmp.png"
    figure.savefig(temporary, dpi=90)
    _pyplot().close(figure)
    os.replace(temporary, path)
    return path


def _epoch_axis(axis) -> None:
    """An x axis of epochs: labelled, ticked at whole epochs only."""
    from matplotlib.ticker import MaxNLocator

    axis.set_xlabel("epoch")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))


def _layout(count: int):
    columns = 2 if count > 1 else 1
    rows = (count + columns - 1) // columns
    figure, axes = _pyplot().subplots(
        rows, columns, figsize=(5.5 * columns, 3.6 * rows), squeeze=False
    )
    for axis in axes.flat[count:]:
        axis.set_visible(False)
    return figure, list(axes.flat[:count])


def plot_learning_curves(
    records: Sequence[Record],
    path: str,
    title: str = "",
    constant_epochs: Optional[int] = None,
    total_epochs: Optional[int] = None,
    mark_initial: Sequence[str] = (),
) -> str:
    """One run's metrics and losses against epoch; the decay phase shaded. Returns `path`.

    Each metric named in `mark_initial` also gets a dotted horizontal line at
    its epoch-0 value (the networks at initialisation, e.g. the random-init
    encoder that learned features have to beat).
    """
    panels = [
        (name, [(label, value) for label, value in lines if _series([records], value)[0]])
        for name, lines in RUN_PANELS
    ]
    panels = [(name, lines) for name, lines in panels if lines]
    figure, axes = _layout(max(1, len(panels)))
    for axis, (name, lines) in zip(axes, panels):
        for label, value in lines:
            epochs, values = _series([records], value)
            style = "--" if "baseline" in label else "-"
            (line,) = axis.plot(epochs, [v[0] for v in values], style, marker=".", label=label)
            if label.split(" (")[0] in mark_initial and epochs and epochs[0] == 0:
                axis.axhline(
                    values[0][0], linestyle=":", color=line.get_color(), label=f"{label} at init"
                )
        if constant_epochs is not None and total_epochs and total_epochs > constant_epochs:
            axis.axvspan(
                constant_epochs, total_epochs, color="0.5", alpha=0.12, label="learning-rate decay"
            )
        axis.set_title(name)
        _epoch_axis(axis)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    figure.suptitle(title or "learning curves")
    figure.tight_layout()
    return _save(figure, path)


def plot_groups(
    groups: Dict[str, Sequence[Sequence[Record]]],
    path: str,
    title: str = "",
    panels: Sequence[Panel] = tuple(COMPARE_PANELS),
    colors: Optional[Dict[str, str]] = None,
    note: str = "",
) -> str:
    """Groups of runs overlaid: mean over a group's runs, band = min..max. Returns `path`.

    `note` (e.g. that the runs were evaluated at different sizes) is printed
    under the legend.
    """
    shown = [
        (name, value)
        for name, [(_, value)] in panels
        if any(_series(runs, value)[0] for runs in groups.values())
    ]
    figure, axes = _layout(max(1, len(shown)))
    for axis, (name, value) in zip(axes, shown):
        for index, (label, runs) in enumerate(groups.items()):
            epochs, values = _series(runs, value)
            if not epochs:
                continue
            # A fixed colour per group, so a group looks the same in every panel.
            color = (colors or {}).get(label, f"C{index % 10}")
            axis.plot(
                epochs, [sum(v) / len(v) for v in values], marker=".", color=color, label=label
            )
            if len(runs) > 1:
                axis.fill_between(
                    epochs,
                    [min(v) for v in values],
                    [max(v) for v in values],
                    color=color,
                    alpha=0.2,
                )
        axis.set_title(name)
        _epoch_axis(axis)
        axis.grid(alpha=0.3)
    handles, labels = [], []
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if handles:
        figure.legend(
            handles,
            labels,
            loc="lower center",
            ncol=min(len(handles), 6),
            bbox_to_anchor=(0.5, 0.02 if note else 0.0),
        )
    if note:
        figure.text(0.5, 0.005, note, ha="center", va="bottom", fontsize="small", wrap=True)
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.1 if note else 0.07, 1, 0.96))
    return _save(figure, path)


def plot_embedding(
    points: Array,
    labels: Array,
    path: str,
    title: str = "",
    class_names: Optional[Sequence[str]] = None,
) -> str:
    """A 2-D embedding (e.g. t-SNE of E(x)) as a scatter coloured by class, with a legend."""
    plt = _pyplot()
    points, labels = np.asarray(points, np.float64), np.asarray(labels, int)
    figure, axis = plt.subplots(figsize=(8, 7))
    colormap = plt.get_cmap("tab10" if labels.max(initial=0) < 10 else "tab20")
    for k in np.unique(labels):
        chosen = labels == k
        name = class_names[k] if class_names is not None and k < len(class_names) else str(k)
        axis.scatter(
            points[chosen, 0], points[chosen, 1], s=6, color=colormap(k % colormap.N), label=name
        )
    axis.set_xticks([])
    axis.set_yticks([])
    axis.legend(title="class", markerscale=3, fontsize="small", loc="best")
    axis.set_title(title or "2-D embedding")
    figure.tight_layout()
    return _save(figure, path)


def plot_confusion(
    matrix: Array, path: str, title: str = "", class_names: Optional[Sequence[str]] = None
) -> str:
    """A confusion matrix (rows: true class, columns: predicted), counts in the cells."""
    from sklearn.metrics import ConfusionMatrixDisplay

    matrix = np.asarray(matrix)
    names = list(class_names) if class_names is not None else [str(k) for k in range(len(matrix))]
    figure, axis = _pyplot().subplots(figsize=(1.0 + 0.6 * len(matrix), 0.6 * len(matrix) + 0.8))
    ConfusionMatrixDisplay(matrix, display_labels=names).plot(
        ax=axis, cmap="Blues", colorbar=False, values_format="d"
    )
    axis.set_title(title or "confusion matrix")
    figure.tight_layout()
    return _save(figure, path)


def plot_transfer(rows: Sequence[Dict], path: str, title: str = "") -> str:
    """Test accuracy against labels per class, pretrained encoder vs random init, per mode.

    `rows`: dicts with labels_per_class, mode, pretrained and random (accuracies
    in [0, 1]), as `benchmarks/bench_transfer.py` makes them.
    """
    modes = list(dict.fromkeys(row["mode"] for row in rows))
    figure, axes = _layout(max(1, len(modes)))
    for axis, mode in zip(axes, modes):
        chosen = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["labels_per_class"])
        budgets = [r["labels_per_class"] for r in chosen]
        for key, label, style in (
            ("pretrained", "BiGAN encoder", "-o"),
            ("random", "random init", "--s"),
        ):
            axis.plot(budgets, [100 * r[key] for r in chosen], style, label=label)
        axis.set_xscale("log")
        axis.set_xlabel("labelled images per class")
        axis.set_ylabel("test accuracy (%)")
        axis.set_title(mode)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title or "transfer")
    figure.tight_layout()
    return _save(figure, path)


def plot_image_panels(panels: Sequence[Tuple[str, np.ndarray]], path: str, title: str = "") -> str:
    """uint8 image grids [H, W, C], one titled row each, in one figure (the paper's figures)."""
    plt = _pyplot()
    heights = [grid.shape[0] for _, grid in panels]
    scale = 9.0 / max(max(grid.shape[1] for _, grid in panels), 1)
    figure, axes = plt.subplots(
        len(panels),
        1,
        squeeze=False,
        figsize=(9.5, max(2.0, sum(heights) * scale + 0.5 * len(panels))),
        gridspec_kw={"height_ratios": heights},
    )
    for axis, (name, grid) in zip(axes[:, 0], panels):
        axis.imshow(
            grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", interpolation="nearest"
        )
        axis.set_title(name)
        axis.axis("off")
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(figure, path)


def evaluation_note(runs: Sequence[str], labels: Sequence[str]) -> str:
    """'' when every run was evaluated alike, else which settings differ and for which runs."""
    from bigan_tf.run_dir import read_config

    sections = {
        label: ((read_config(run) or {}).get("evaluation") or {})
        for run, label in zip(runs, labels)
    }
    keys = sorted({k for section in sections.values() for k in section})
    differences = []
    for key in keys:
        by_value: Dict[Any, List[str]] = {}
        for label, section in sections.items():
            by_value.setdefault(section.get(key), []).append(label)
        if len(by_value) > 1:
            differences.append(
                f"{key} "
                + " vs ".join(f"{value} ({', '.join(names)})" for value, names in by_value.items())
            )
    if not differences:
        return ""
    return (
        "the runs were evaluated at different sizes, so their curves are not comparable "
        "point for point: " + "; ".join(differences) + "."
    )
