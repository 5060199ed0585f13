r"""Which levers make a BiGAN's encoder learn features? The feature study.

    python -m benchmarks.feature_study --study_dir=$HOME/bigan_runs/features      # hours
    python -m benchmarks.feature_study --study_dir=DIR --recipes=baseline,unary
    python -m benchmarks.feature_study --study_dir=DIR --report_only
    python -m benchmarks.feature_study --study_dir=/tmp/q --quick --dataset=mnist  # seconds

Trains every recipe of `configs/feature_study.py` (today's conv BiGAN, then one
lever added to a parent recipe) at the same budget, one after the other, in this
process, into STUDY_DIR/DATASET/RECIPE. A finished recipe is skipped and an
unfinished one resumed from its newest checkpoint, so the command can be
stopped (Ctrl-C saves) and restarted at any time. Each finished recipe is
then probed once on the test split (`bigan_tf.evaluation.probes`): its
encoder's "e-" features against the same encoder at its random
initialisation (batch norm deployed as in training) and against raw pixels,
1-NN (NNC) and a linear classifier (CLS), 10,000 test images against 50,000
training images, each margin with its paired standard error. Recipes are
compared (model selection) on the held-out evaluations of training, never on
the test split. Writes into --results_dir/DATASET:

* `table.md`, `table.csv`: per recipe, what it changes, cost (s/epoch,
  parameters), the last held-out NNC_e-/CLS_e- beside their epoch-0 values,
  and the test-split probe;
* `curves/RECIPE.png`: each recipe's learning curves (random-init lines dotted);
* `runs/RECIPE/`: its `metrics.jsonl`, `config.json` and `probe.json`;

and `--results_dir/summary.json`: per dataset, the recipe that leads on the
held-out CLS_e-, the command that trains it, and its test-split figures.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import shutil
import statistics
import sys
from typing import Dict, List, Literal, NamedTuple, Optional, Tuple

import numpy as np

from absl import app, flags

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

from trainers.data_paths import define_data_dir_flag  # noqa: E402
from trainers.option_flags import define_option_flags  # noqa: E402

from configs import feature_study  # noqa: E402

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class StudyOptions:
    """Which recipes, on which data, where (each field is a flag of the same name).

    study_dir    Folder of the runs (outside the work tree).
    recipes      Recipes to train (configs/feature_study.py; default: all of them).
    dataset      The data.
    epochs       Epochs of every recipe (default: the screening budget of
                 configs/feature_study.py; 2 with --quick).
    results_dir  Where the tables and curves go.
    quick        Tiny sizes (the test suite's): seconds per recipe.
    report_only  Train and probe nothing: report what exists.
    stage        screening: each recipe from scratch, into STUDY_DIR/DATASET/RECIPE and
                 RESULTS_DIR/DATASET; long: the chosen recipes trained on to --epochs
                 (their screening run copied first, when there is one), into
                 STUDY_DIR/DATASET/long/RECIPE and RESULTS_DIR/DATASET/long. A long
                 run's entry in summary.json outranks the screening's.
    hub_module   Export the selected recipe's encoder here as a TF-Hub module (batch norm
                 deployed as the probe deploys it) with its model card, and record it in
                 summary.json; an existing folder is kept, not rewritten.
    """

    study_dir: str
    recipes: Tuple[str, ...] = feature_study.RECIPES
    dataset: Literal["fashion_mnist", "mnist"] = "fashion_mnist"
    epochs: Optional[int] = None
    results_dir: str = "results/features"
    quick: bool = False
    report_only: bool = False
    stage: Literal["screening", "long"] = "screening"
    hub_module: Optional[str] = None


define_option_flags(StudyOptions)
define_data_dir_flag("DATASET")


PROBE_FILE = "probe.json"
# The long stage also probes each run on the held-out split (the same probe, other
# queries): its runs are chosen between on that, never on the test split.
HELD_OUT_PROBE_FILE = "probe_held_out.json"
PROBE_FILES = {"test": PROBE_FILE, "held-out": HELD_OUT_PROBE_FILE}
# How the test-split probe reads the features; a cached probe made otherwise is redone.
# The linear probe standardises each feature over the training features first: the
# protocol's bias-free fixed-budget classifier is otherwise at the mercy of their scale.
PROBE_SETTINGS = {"cls_standardized": True}
NUM_PROBE_REFERENCE, NUM_PROBE_QUERY = 50000, 10000
QUICK_PROBE_REFERENCE, QUICK_PROBE_QUERY = 256, 64


def _records(run_dir: str) -> List[Dict]:
    from bigan_tf.run_dir import read_metrics

    return read_metrics(run_dir)


def is_finished(run_dir: str, epochs: int) -> bool:
    """Whether the run's last evaluation is its last epoch."""
    return any(r["epoch"] >= epochs for r in _records(run_dir))


def train_recipe(config) -> None:
    import tensorflow as tf

    from bigan_tf.training import train

    train(tf.distribute.get_strategy(), config)


class ProbeSets(NamedTuple):
    """The probe's images in the model's input form ([N, H, W, C] in [0, 1]) and labels."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    num_classes: int

    @property
    def arrays(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.train_images, self.train_labels, self.test_images, self.test_labels


def probe_sets(trained, config, quick: bool, split: str = "test") -> ProbeSets:
    """The first training images (references) and the test images (`split` "test") or
    the held-out training images ("held-out") that the probe reads."""
    from bigan_tf.data import load_image_data
    from bigan_tf.data.image_files import match_image_shape
    from bigan_tf.data.pipeline import to_model_range

    data = load_image_data(config.data.source, config.data.root, use_test_set=split == "test")
    data = match_image_shape(data, trained.experiment.network.encoder_image_shape)
    num_reference, num_query = (
        (QUICK_PROBE_REFERENCE, QUICK_PROBE_QUERY)
        if quick
        else (NUM_PROBE_REFERENCE, NUM_PROBE_QUERY)
    )
    model_input = lambda images: np.reshape(
        to_model_range(images).numpy(), [-1, *trained.model.data_shape]
    )
    return ProbeSets(
        model_input(data.train_images[:num_reference]),
        data.train_labels[:num_reference],
        model_input(data.val_images[:num_query]),
        data.val_labels[:num_query],
        data.num_classes,
    )


def probe_recipe(run_dir: str, config, quick: bool, split: str = "test") -> Dict[str, object]:
    """The probe of a finished run's newest epoch checkpoint on the test split (cached in
    RUN/probe.json) or the held-out split (RUN/probe_held_out.json); redone when the run
    has a newer checkpoint."""
    path = os.path.join(run_dir, PROBE_FILES[split])
    import keras

    from bigan_tf import BiGAN
    from bigan_tf.checkpoints import load_trained_model
    from bigan_tf.evaluation.probes import margin_rows, probe_encoders
    from bigan_tf.run_dir import atomic_write_text
    from bigan_tf.networks.cost import parameter_count

    if os.path.exists(path):
        # The newest checkpoint is the last evaluated epoch's: a cached probe of that
        # epoch, made with today's settings, is read back without loading the model
        # (a study folder seeded from results/ has the records but no checkpoints).
        cached = json.load(open(path))
        records = _records(run_dir)
        if (
            records
            and cached.get("epoch") == records[-1]["epoch"]
            and all(cached.get(k) == v for k, v in PROBE_SETTINGS.items())
        ):
            return cached
    trained = load_trained_model(run_dir, "latest")
    experiment = trained.experiment
    seed = experiment.run.seed
    keras.utils.set_random_seed(seed)  # as training seeds the run before building it
    random_init = BiGAN.from_config_objects(
        experiment.network, experiment.objective, experiment.optimizer.weight_decay, seed
    )
    sets = probe_sets(trained, config, quick, split)
    probe = probe_encoders(
        {"random init": random_init, "trained": trained.model},
        lambda m: lambda x: {"e-": m.encoder.extract_features(x, training=False)},
        *sets.arrays,
        sets.num_classes,
        experiment.evaluation,
        experiment.evaluation.deploy_iters,
        seed,
        standardize=PROBE_SETTINGS["cls_standardized"],
    )
    row = margin_rows(probe["scores"]["random init"], probe["scores"]["trained"])[0]
    model = trained.model
    result = {
        "epoch": trained.epoch,
        "split": split,
        **PROBE_SETTINGS,
        "num_reference": len(sets.train_labels),
        "num_query": len(sets.test_labels),
        "pixels": probe["pixels"],
        "e-": row,
        "parameters": {
            name: parameter_count(net)
            for name, net in (
                ("encoder", model.encoder),
                ("generator", model.generator),
                ("discriminator", model.joint_discriminator or model.discriminator),
            )
        },
    }
    atomic_write_text(path, json.dumps(result, indent=1) + "\n")
    return result


# The module's check: the closed-form linear probe of its features, the first
# CHECK_REFERENCES training images against the first CHECK_QUERIES test images.
CHECK_REFERENCES, CHECK_QUERIES, CHECK_L2 = 10000, 10000, 1.0
CARD_FILE, CARD_TEXT = "model_card.json", "MODEL_CARD.md"


def probe_figures(probe: Dict) -> Dict[str, float]:
    """A probe's accuracies (%) under the names of summary.json and the model card."""
    e, pixels = probe["e-"], probe["pixels"]
    return {
        "cls_e-": e["CLS trained"],
        "cls_e-_random_init": e["CLS random init"],
        "cls_e-_margin_se": e["CLS margin SE"],
        "cls_pixels": pixels["CLS"],
        "nnc_e-": e["NNC trained"],
        "nnc_e-_random_init": e["NNC random init"],
        "nnc_e-_margin_se": e["NNC margin SE"],
        "nnc_pixels": pixels["NNC"],
    }


def module_features(module, images: np.ndarray, batch: int = 500) -> np.ndarray:
    """A loaded module's output for `images` ([N, H, W, C] in [0, 1]), in inference mode."""
    import tensorflow as tf

    return np.concatenate(
        [
            module(tf.constant(images[i : i + batch], tf.float32), training=False).numpy()
            for i in range(0, len(images), batch)
        ]
    )


def export_module(
    recipe: str, run_dir: str, config, hub_dir: str, probe: Dict, command: str, quick: bool
) -> Dict[str, object]:
    """Exports the run's encoder to `hub_dir` as a TF-Hub module, batch norm deployed over
    the probe's training images as the probe deployed it, with `model_card.json` and
    `MODEL_CARD.md` (data, recipe, command, the probe's figures, input contract, and
    the module's own closed-form check figure). Returns the card."""
    from bigan_tf.checkpoints import load_trained_model
    from bigan_tf.evaluation.deploy import deploy_batch_norm_on_images
    from bigan_tf.evaluation.probes import ridge_probe_accuracy
    from bigan_tf.export.exporters import export_hub_module
    from bigan_tf.run_dir import atomic_write_text
    import tensorflow as tf

    trained = load_trained_model(run_dir, "latest")
    experiment = trained.experiment
    sets = probe_sets(trained, config, quick)
    deploy_batch_norm_on_images(
        trained.model,
        sets.train_images,
        sets.train_labels,
        experiment.evaluation.deploy_iters,
        experiment.run.seed,
    )
    export_hub_module(
        trained.model,
        trained.network,
        hub_dir,
        "features",
        experiment.optimizer.weight_decay,
        overwrite=False,
        trained=trained,
    )
    references, queries = (
        min(CHECK_REFERENCES, len(sets.train_labels)),
        min(CHECK_QUERIES, len(sets.test_labels)),
    )
    module = tf.saved_model.load(hub_dir)
    check = ridge_probe_accuracy(
        module_features(module, sets.train_images[:references]),
        sets.train_labels[:references],
        module_features(module, sets.test_images[:queries]),
        sets.test_labels[:queries],
        sets.num_classes,
        CHECK_L2,
    )
    size = sum(
        os.path.getsize(os.path.join(folder, name))
        for folder, _, names in os.walk(hub_dir)
        for name in names
    )
    e = probe["e-"]
    height, width, channels = experiment.network.encoder_image_shape
    card = {
        "recipe": recipe,
        "changes": feature_study.describe(recipe),
        "dataset": config.data.source,
        "epochs": probe["epoch"],
        "command": command,
        "parameters": probe["parameters"]["encoder"],
        "size_bytes": size,
        "input": {
            "shape": [None, height, width, channels],
            "dtype": "float32",
            "range": [0.0, 1.0],
            "from_28px": f"tf.image.resize(uint8 images, [{height}, {width}], 'bilinear', "
            "antialias=True), rounded and clipped to 0..255, then / 255",
        },
        "output": {"name": "features", "size": e["width"], "layer": "e- (penultimate)"},
        "probe": {
            "references": probe["num_reference"],
            "queries": probe["num_query"],
            **probe_figures(probe),
        },
        "check": {
            "references": references,
            "queries": queries,
            "l2": CHECK_L2,
            "accuracy": check,
            "how": "bigan_tf.evaluation.probes.ridge_probe_accuracy of the module's features: "
            "the first `references` training images against the first `queries` test images",
        },
    }
    atomic_write_text(
        os.path.join(hub_dir, CARD_FILE), json.dumps(card, indent=1, sort_keys=True) + "\n"
    )
    atomic_write_text(os.path.join(hub_dir, CARD_TEXT), model_card_text(card))
    return card


def model_card_text(card: Dict) -> str:
    """The model card as Markdown, from `card` (see `export_module`)."""
    p, c = card["probe"], card["check"]
    shape = "×".join(str(d) for d in card["input"]["shape"][1:])
    return f"""# BiGAN encoder: {card["recipe"]} on {card["dataset"]} ({card["epochs"]} epochs)

An image feature vector module (TF-Hub, Reusable SavedModel; {card["size_bytes"] / 1e6:.2f} MB,
{card["parameters"]:,} parameters) trained without labels by the feature study of
bigan_tf: the encoder E of a BiGAN whose recipe is `{card["recipe"]}`
(configs/feature_study.py: {json.dumps(card["changes"])} on top of its parent recipe).

    {card["command"]}

**Input**: float32 images [batch, {shape}] in [0, 1]. 28×28 Fashion-MNIST/MNIST images
are first resized as in training: {card["input"]["from_28px"]}.
**Output**: [batch, {card["output"]["size"]}], the encoder's {card["output"]["layer"]}
features, batch norm at the statistics of a deploy pass over training images.

    import tensorflow as tf, tensorflow_hub as hub
    module = hub.load(MODULE_DIR)
    features = module(images, training=False)       # or hub.KerasLayer(MODULE_DIR, trainable=True)

**Test-split probe** (the study's: {p["queries"]:,} test images against {p["references"]:,}
training images; linear classifier on standardised features, and 1-NN):

| features | linear (CLS) | 1-NN (NNC) |
|---|---|---|
| this encoder | {p["cls_e-"]:.2f} | {p["nnc_e-"]:.2f} |
| the same encoder at its random init | {p["cls_e-_random_init"]:.2f} | {p["nnc_e-_random_init"]:.2f} |
| raw pixels | {p["cls_pixels"]:.2f} | {p["nnc_pixels"]:.2f} |

Trained − random init: {p["cls_e-"] - p["cls_e-_random_init"]:+.2f} ± {p["cls_e-_margin_se"]:.2f}
(linear), {p["nnc_e-"] - p["nnc_e-_random_init"]:+.2f} ± {p["nnc_e-_margin_se"]:.2f} (1-NN), paired
standard errors over the shared test images.

**Check figure**: a closed-form ridge probe (λ = {c["l2"]}) of this module's features, the
first {c["references"]:,} training images against the first {c["queries"]:,} test images:
{c["accuracy"]:.2f}%. A copy of the module that computes the same features reproduces it
(tests/test_feature_module.py does, with tensorflow and tensorflow_hub alone).
"""


def read_probe(run_dir: str, split: str) -> Optional[Dict]:
    """A run's cached probe of `split`, or None."""
    path = os.path.join(run_dir, PROBE_FILES[split])
    return json.load(open(path)) if os.path.exists(path) else None


def recipe_row(
    recipe: str, run_dir: str, probe: Optional[Dict], held_out_probe: Optional[Dict] = None
) -> Dict[str, object]:
    """One table row: the recipe's change, cost, held-out course and test-split probe."""
    records = _records(run_dir)
    first = next((r["metrics"] for r in records if r["epoch"] == 0), {})
    last = records[-1] if records else {"epoch": 0, "metrics": {}}
    seconds = [r["epoch_seconds"] for r in records if "epoch_seconds" in r]
    row = {
        "recipe": recipe,
        "changes": feature_study.describe(recipe),
        "epoch": last["epoch"],
        "s/epoch": statistics.median(seconds) if seconds else None,
    }
    for name in ("NNC_e-", "CLS_e-"):
        row[f"held-out {name}"] = last["metrics"].get(name)
        row[f"held-out {name} at init"] = first.get(name)
    if probe is not None:
        e = probe["e-"]
        row.update(
            {
                "probe": probe,
                "parameters": probe["parameters"],
                "probe epoch": probe["epoch"],
                "probe queries": probe["num_query"],
                "probe references": probe["num_reference"],
                "t10k CLS_e-": e["CLS trained"],
                "t10k CLS_e- random init": e["CLS random init"],
                "t10k CLS margin": e["CLS margin"],
                "t10k CLS margin SE": e["CLS margin SE"],
                "t10k CLS pixels": probe["pixels"]["CLS"],
                "t10k NNC_e-": e["NNC trained"],
                "t10k NNC_e- random init": e["NNC random init"],
                "t10k NNC margin": e["NNC margin"],
                "t10k NNC margin SE": e["NNC margin SE"],
                "t10k NNC pixels": probe["pixels"]["NNC"],
            }
        )
    if held_out_probe is not None:
        h = held_out_probe["e-"]
        for measure in ("NNC", "CLS"):
            row[f"held-out probe {measure}_e-"] = h[f"{measure} trained"]
            row[f"held-out probe {measure} margin"] = h[f"{measure} margin"]
    return row


def _fmt(value, spec=".2f", signed=False) -> str:
    if value is None:
        return "–"
    return format(value, ("+" if signed else "") + spec)


def _held_out_probe(row: Dict[str, object], measure: str) -> str:
    value = row.get(f"held-out probe {measure}_e-")
    if value is None:
        return "–"
    return f"{_fmt(value)} ({_fmt(row[f'held-out probe {measure} margin'], signed=True)})"


def format_table(rows: List[Dict[str, object]], dataset: str) -> str:
    sizes = next(
        ((r["probe queries"], r["probe references"]) for r in rows if "probe queries" in r),
        (NUM_PROBE_QUERY, NUM_PROBE_REFERENCE),
    )
    lines = [
        f"Feature study on {dataset} (32 px). Held-out: the last evaluation of training "
        "(model selection at screening); held-out probe: the test-split probe's protocol on "
        "the 10,000 held-out training images instead (model selection of the long stage). "
        "t10k: the test-split probe of the e- features "
        f"({sizes[0]:,} test images against {sizes[1]:,} training images), trained − "
        "random init ± paired SE; its linear probe (CLS) reads standardised features "
        "(each feature's mean and std over the training images), the held-out CLS the "
        "protocol's raw ones. Made by `python -m benchmarks.feature_study`.",
        "",
        "| recipe | epoch | s/epoch | params E/G/D (M) | held-out NNC_e- (init) | "
        "held-out CLS_e- (init) | held-out probe NNC_e- (vs init) | held-out probe CLS_e- "
        "(vs init) | t10k NNC_e- | vs init | pixels | t10k CLS_e- | vs init | pixels |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        params = r.get("parameters")
        params = (
            "/".join(f"{params[k] / 1e6:.2f}" for k in ("encoder", "generator", "discriminator"))
            if params
            else "–"
        )
        lines.append(
            f"| {r['recipe']} | {r['epoch']} | {_fmt(r['s/epoch'], '.0f')} | {params} | "
            f"{_fmt(r['held-out NNC_e-'])} ({_fmt(r['held-out NNC_e- at init'])}) | "
            f"{_fmt(r['held-out CLS_e-'])} ({_fmt(r['held-out CLS_e- at init'])}) | "
            f"{_held_out_probe(r, 'NNC')} | {_held_out_probe(r, 'CLS')} | "
            f"{_fmt(r.get('t10k NNC_e-'))} | {_fmt(r.get('t10k NNC margin'), signed=True)} ± "
            f"{_fmt(r.get('t10k NNC margin SE'))} | {_fmt(r.get('t10k NNC pixels'))} | "
            f"{_fmt(r.get('t10k CLS_e-'))} | {_fmt(r.get('t10k CLS margin'), signed=True)} ± "
            f"{_fmt(r.get('t10k CLS margin SE'))} | {_fmt(r.get('t10k CLS pixels'))} |"
        )
    lines += [
        "",
        "What each recipe adds to its parent recipe (configs/feature_study.py): "
        + "; ".join(
            f"**{r['recipe']}** = "
            + (
                f"{feature_study.PARENTS[r['recipe']]} + {json.dumps(r['changes'])}"
                if r["changes"]
                else "the paper's conv BiGAN"
            )
            for r in rows
        ),
    ]
    return "\n".join(lines) + "\n"


def table_csv(rows: List[Dict[str, object]]) -> str:
    columns = [k for k in rows[0] if k not in ("changes", "parameters", "probe")] if rows else []
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def selected(rows: List[Dict[str, object]]) -> Optional[Dict[str, object]]:
    """The probed recipe with the best held-out probe CLS_e- when every probed row has
    one (the long stage), else the best last held-out CLS_e- of training (the
    screening); never chosen on the test split."""
    probed = [
        r for r in rows if r.get("t10k CLS_e-") is not None and r.get("held-out CLS_e-") is not None
    ]
    if not probed:
        return None
    key = (
        "held-out probe CLS_e-"
        if all(r.get("held-out probe CLS_e-") is not None for r in probed)
        else "held-out CLS_e-"
    )
    return max(probed, key=lambda r: r[key])


def selection_rule(row: Dict[str, object]) -> str:
    if row.get("held-out probe CLS_e-") is not None:
        return "held-out probe CLS_e- (the test-split probe's protocol on the held-out split)"
    return "held-out CLS_e- (the last evaluation of training)"


def write_tables(
    results_dir: str,
    dataset: str,
    stage: str,
    rows: List[Dict[str, object]],
    run_dirs: Dict[str, str],
) -> None:
    """Tables, curves and run records into RESULTS/DATASET (RESULTS/DATASET/long for the
    long stage)."""
    from bigan_tf.run_dir import CONFIG_FILE, METRICS_FILE, atomic_write_text
    from bigan_tf.plots import plot_learning_curves

    out = os.path.join(results_dir, dataset, *(("long",) if stage == "long" else ()))
    os.makedirs(os.path.join(out, "curves"), exist_ok=True)
    atomic_write_text(os.path.join(out, "table.md"), format_table(rows, dataset))
    atomic_write_text(os.path.join(out, "table.csv"), table_csv(rows))
    for recipe, run_dir in run_dirs.items():
        records = _records(run_dir)
        if records:
            plot_learning_curves(
                records,
                os.path.join(out, "curves", f"{recipe}.png"),
                title=f"{dataset}: {recipe}",
                mark_initial=("NNC_e-", "CLS_e-"),
            )
        copy_to = os.path.join(out, "runs", recipe)
        os.makedirs(copy_to, exist_ok=True)
        for name in (METRICS_FILE, CONFIG_FILE, PROBE_FILE, HELD_OUT_PROBE_FILE):
            if os.path.exists(os.path.join(run_dir, name)):
                shutil.copyfile(os.path.join(run_dir, name), os.path.join(copy_to, name))


def write_summary(
    results_dir: str,
    dataset: str,
    stage: str,
    rows: List[Dict[str, object]],
    command: str,
    hub_module: Optional[str] = None,
) -> Optional[Dict[str, object]]:
    """The selected row of `rows` (every recipe of the stage: selecting among some would
    credit a recipe the others may beat) into RESULTS/summary.json; a long run's entry is
    not replaced by a screening's. Returns the selected row."""
    from bigan_tf.run_dir import atomic_write_text

    summary_path = os.path.join(results_dir, "summary.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    best = selected(rows)
    previous = summary.get(dataset, {})
    if best is None or (stage == "screening" and previous.get("stage") == "long"):
        return best
    summary[dataset] = {
        "recipe": best["recipe"],
        "stage": stage,
        "command": f"{command} --recipes={best['recipe']}",
        "epochs": best["probe epoch"],
        "hub_module": hub_module
        if hub_module is not None
        else (previous.get("hub_module") if previous.get("recipe") == best["recipe"] else None),
        "selected_on": selection_rule(best),
        "t10k": probe_figures(best["probe"]),
    }
    atomic_write_text(summary_path, json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return best


def exported_recipe(hub_dir: str) -> Optional[str]:
    """The recipe whose encoder the module in `hub_dir` holds, from its model card (None:
    no card)."""
    path = os.path.join(hub_dir, CARD_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f).get("recipe")


def start_long_run(screening_dir: str, long_dir: str) -> None:
    """A long run starts as a copy of the recipe's screening run (records and
    checkpoints), when there is one and no long run yet: training then continues it."""
    if os.path.isdir(long_dir) or not os.path.isdir(os.path.join(screening_dir, "checkpoints")):
        return
    os.makedirs(os.path.dirname(long_dir), exist_ok=True)
    shutil.copytree(
        screening_dir, long_dir, ignore=shutil.ignore_patterns(".lock", *PROBE_FILES.values())
    )
    print(f"Copied the screening run {screening_dir} to {long_dir}", flush=True)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bigan_tf.errors import ConfigError
    from trainers.data_paths import find_data_dir

    unknown = [r for r in FLAGS.recipes if r not in feature_study.RECIPES]
    if unknown:
        raise ConfigError(
            f"--recipes: unknown {unknown}; choose from {', '.join(feature_study.RECIPES)}."
        )
    epochs = FLAGS.epochs or (2 if FLAGS.quick else feature_study.SCREENING_EPOCHS)
    if epochs < 1:
        raise ConfigError(f"--epochs must be >= 1, got {epochs}.")
    data_root = find_data_dir(FLAGS.dataset, FLAGS.data_dir)
    command = (
        f"python -m benchmarks.feature_study --study_dir={FLAGS.study_dir} "
        f"--dataset={FLAGS.dataset} --epochs={epochs}"
        + (" --stage=long" if FLAGS.stage == "long" else "")
        + (" --quick" if FLAGS.quick else "")
    )
    rows, run_dirs, probes, configs = [], {}, {}, {}
    for recipe in FLAGS.recipes:
        run_dir = os.path.join(FLAGS.study_dir, FLAGS.dataset, recipe)
        if FLAGS.stage == "long":
            long_dir = os.path.join(FLAGS.study_dir, FLAGS.dataset, "long", recipe)
            if not FLAGS.report_only:
                start_long_run(run_dir, long_dir)
            run_dir = long_dir
        config = feature_study.recipe_config(
            recipe, run_dir, FLAGS.dataset, data_root, epochs, FLAGS.quick
        )
        if not FLAGS.report_only:
            if is_finished(run_dir, epochs):
                print(f"{recipe}: finished ({run_dir}); skipped.", flush=True)
            else:
                print(f"{recipe}: training into {run_dir}", flush=True)
                train_recipe(config)
        probe = held_out_probe = None
        if is_finished(run_dir, epochs):
            splits = ("test", "held-out") if FLAGS.stage == "long" else ("test",)
            found = {
                split: (
                    probe_recipe(run_dir, config, FLAGS.quick, split)
                    if not FLAGS.report_only
                    else read_probe(run_dir, split)
                )
                for split in splits
            }
            probe, held_out_probe = found["test"], found.get("held-out")
        if os.path.isdir(run_dir):
            rows.append(recipe_row(recipe, run_dir, probe, held_out_probe))
            run_dirs[recipe], probes[recipe], configs[recipe] = run_dir, probe, config
            write_tables(FLAGS.results_dir, FLAGS.dataset, FLAGS.stage, rows, run_dirs)
            if probe is not None:
                e = probe["e-"]
                print(
                    f"{recipe}: t10k CLS_e- {e['CLS trained']:.2f} (random init "
                    f"{e['CLS random init']:.2f}, pixels {probe['pixels']['CLS']:.2f}), "
                    f"NNC_e- {e['NNC trained']:.2f} (random init {e['NNC random init']:.2f}, "
                    f"pixels {probe['pixels']['NNC']:.2f})",
                    flush=True,
                )
    best = selected(rows)
    hub_module = None
    if FLAGS.hub_module and best is not None and not FLAGS.report_only:
        recipe = str(best["recipe"])
        if os.path.exists(FLAGS.hub_module):
            exported = exported_recipe(FLAGS.hub_module)
            if exported != recipe:
                # Recording it would credit the selected recipe with another's encoder.
                raise ConfigError(
                    f"--hub_module={FLAGS.hub_module} holds the encoder of {exported!r}, not of "
                    f"the selected {recipe!r}: name a new folder to export it."
                )
            print(f"{FLAGS.hub_module} exists: kept as it is (remove it to export again).")
        else:
            card = export_module(
                recipe,
                run_dirs[recipe],
                configs[recipe],
                FLAGS.hub_module,
                probes[recipe],
                f"{command} --recipes={recipe}",
                FLAGS.quick,
            )
            print(
                f"Exported {recipe} to {FLAGS.hub_module} ({card['size_bytes'] / 1e6:.2f} MB; "
                f"check figure {card['check']['accuracy']:.2f}%)",
                flush=True,
            )
        hub_module = FLAGS.hub_module
    write_summary(FLAGS.results_dir, FLAGS.dataset, FLAGS.stage, rows, command, hub_module)
    out = os.path.join(
        FLAGS.results_dir, FLAGS.dataset, *(("long",) if FLAGS.stage == "long" else ())
    )
    print(f"Wrote {os.path.join(out, 'table.md')}")
    return 0


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "feature_study")
