"""Data loading: one `DataConfig`, one `load`; IDX, HDF5, image files and TFDS; tf.data pipelines."""

from bigan_tf.data.config import DataConfig
from bigan_tf.data.idx import find_idx_file, load_idx_dataset, read_idx
from bigan_tf.data.pipeline import (
    ImageData,
    balanced_subset,
    epoch_permutation,
    held_out_indices,
    load_image_data,
    split_validation,
    to_model_range,
    training_dataset,
)
from bigan_tf.data.loading import load

__all__ = [
    "DataConfig",
    "load",
    "read_idx",
    "find_idx_file",
    "load_idx_dataset",
    "ImageData",
    "load_image_data",
    "held_out_indices",
    "split_validation",
    "training_dataset",
    "to_model_range",
    "epoch_permutation",
    "balanced_subset",
]
