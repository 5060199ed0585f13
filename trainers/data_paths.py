"""Where a program finds its data: one resolution order for every trainer, exporter,
sampler and benchmark.

For the IDX datasets (mnist, fashion_mnist), in order:

1. `--data_dir`, as given (the loader names it when it is missing);
2. the environment variable `BIGAN_TF_DATA`: `$BIGAN_TF_DATA/DATASET`, or the folder
   itself when it holds the files;
3. the data folder recorded by the run or the export being used (its config.json or
   bigan_tf.json), when it still exists;
4. `../shared/data/DATASET` beside the repository.

The first candidate holding the dataset's training images wins; when none does, the
error lists every place looked in and how to get the files. Other sources (TFDS, image
folders) keep their own defaults. This is the one module of the project that reads an
environment variable for data (the library reads none).
"""

from __future__ import annotations

import os
from typing import List, Optional

DATA_ENV = "BIGAN_TF_DATA"
IDX_DATASETS = ("mnist", "fashion_mnist")
HOW_TO_GET = (
    "put the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in one of these, or in a "
    "folder given by --data_dir or $BIGAN_TF_DATA; with a network, --dataset=tfds:mnist "
    "downloads it through TensorFlow Datasets"
)


def repo_root() -> str:
    """The source checkout, also when run from Bazel's runfiles (symlinks to the sources)."""
    return os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def shared_data_dir(name: str = "mnist") -> str:
    """`../shared/data/<name>` beside the checkout."""
    return os.path.normpath(os.path.join(repo_root(), "..", "shared", "data", name))


def _holds_training_images(folder: str) -> bool:
    return os.path.isdir(folder) and any(
        name.startswith(("train-images-idx3-ubyte", "train-images.idx3-ubyte"))
        for name in os.listdir(folder)
    )


def candidate_data_dirs(dataset: str, recorded_root: Optional[str] = None) -> List[str]:
    """The folders looked in for `dataset` after --data_dir, in order."""
    candidates = []
    env = os.environ.get(DATA_ENV)
    if env:
        candidates += [os.path.join(env, dataset), env]
    if recorded_root:
        candidates.append(recorded_root)
    candidates.append(shared_data_dir(dataset))
    return candidates


def find_data_dir(
    dataset: str, data_dir: Optional[str] = None, recorded_root: Optional[str] = None
) -> Optional[str]:
    """The data folder of `dataset` (None: a source with its own default, e.g. TFDS)."""
    if data_dir:
        return data_dir
    if dataset not in IDX_DATASETS:
        return recorded_root if recorded_root and os.path.isdir(recorded_root) else None
    candidates = candidate_data_dirs(dataset, recorded_root)
    for folder in candidates:
        if _holds_training_images(folder):
            return folder
    from bigan_tf.errors import DataError

    raise DataError(
        f"No {dataset} data found. Looked in: {', '.join(candidates)}. To get it, {HOW_TO_GET}."
    )


def define_data_dir_flag(dataset: str = "DATASET") -> None:
    """`--data_dir`, the one definition every program with a dataset folder shares; its
    value goes to `find_data_dir` (the order above). `dataset` names the data in the help."""
    from absl import flags

    flags.DEFINE_string(
        "data_dir",
        None,
        f"The {dataset} IDX folder (default: ${DATA_ENV}/{dataset}, the folder a run or export "
        f"recorded, then ../shared/data/{dataset}).",
    )
