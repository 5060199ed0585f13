"""Datasets in the SSGAN-TensorFlow format: `data.hdf5` + `id.txt` in one folder.

The format of github.com/gitlimlab/SSGAN-Tensorflow: an HDF5 file (named
`data.hdf5`, `data.hy` or `data.h5`) with one group per example, each holding
`image` [h, w, c] and a one-hot `label` [K]; `id.txt` lists the example ids,
one per line, in order. Images may be uint8, or floats in [0, 1] or [0, 255];
they are returned as uint8 [N, h, w, c] with int32 class labels.
"""

from __future__ import annotations

import os
from typing import List, Tuple

import numpy as np

from bigan_tf.errors import DataError

HDF5_NAMES = ("data.hdf5", "data.hy", "data.h5")


def find_hdf5_file(directory: str) -> str:
    """The data file of an SSGAN-format folder, or a `DataError` naming what is missing."""
    if not os.path.isdir(directory):
        raise DataError(f"{directory} is not a folder; --data_dir must hold data.hdf5 and id.txt.")
    for name in HDF5_NAMES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise DataError(f"No HDF5 data file in {directory}: expected one of {', '.join(HDF5_NAMES)}.")


def load_ssgan_hdf5(directory: str) -> Tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, h, w, c], labels int32 [N]) of the ids in `directory/id.txt`."""
    import h5py

    path = find_hdf5_file(directory)
    id_path = os.path.join(directory, "id.txt")
    if not os.path.isfile(id_path):
        raise DataError(f"{id_path} does not exist: list the example ids of {path}, one per line.")
    with open(id_path) as f:
        ids = [line.strip() for line in f if line.strip()]
    if not ids:
        raise DataError(f"{id_path} lists no ids.")
    try:
        data = h5py.File(path, "r")
    except OSError as e:
        raise DataError(f"{path} is not a readable HDF5 file ({e}).") from None
    images: List[np.ndarray] = []
    labels: List[int] = []
    with data:
        for line, key in enumerate(ids, start=1):
            if key not in data:
                raise DataError(f"{id_path}, line {line}: id {key!r} is not in {path}.")
            entry = data[key]
            if "image" not in entry or "label" not in entry:
                raise DataError(f"{path}: entry {key!r} needs both 'image' and 'label'.")
            image, label = np.asarray(entry["image"]), np.asarray(entry["label"])
            if image.ndim != 3:
                raise DataError(
                    f"{path}: image of {key!r} has shape {image.shape}; expected "
                    "[height, width, channels]."
                )
            if images and image.shape != images[0].shape:
                raise DataError(
                    f"{path}: image of {key!r} has shape {image.shape}, unlike the "
                    f"first one's {images[0].shape}."
                )
            if label.ndim != 1 or not np.isclose(label.sum(), 1) or label.min() < 0:
                raise DataError(f"{path}: label of {key!r} must be one-hot, got {label.tolist()}.")
            images.append(image)
            labels.append(int(np.argmax(label)))
    stacked = np.stack(images)
    if stacked.dtype != np.uint8:
        scale = 255.0 if stacked.max() <= 1.0 else 1.0
        stacked = np.clip(np.rint(stacked.astype(np.float64) * scale), 0, 255).astype(np.uint8)
    return stacked, np.asarray(labels, np.int32)
