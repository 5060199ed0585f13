"""`load(DataConfig)`: the one way a program turns a data config into images."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, cast

from bigan_tf.data.config import DataConfig, Preprocessing
from bigan_tf.data.image_files import (
    load_image_folder_data,
    load_tfds_image_data,
    resize_image_data,
)
from bigan_tf.data.image_sources import label_mask
from bigan_tf.data.pipeline import NUM_VALIDATION, ImageData, load_image_data
from bigan_tf.errors import DataError


def load(config: DataConfig) -> ImageData:
    """The images `config` names, with `config` attached (`ImageData.config`).

    File sources and a preprocessed TFDS source stream their training images
    (a `StreamedImageData`; `notes` says what was skipped); the others are
    read into memory, selected by label and count, and resized to the
    preprocessing's crop size when one is given.
    """
    config.validate()
    select: Dict[str, Any] = dict(
        max_labels=config.max_labels, include_labels=config.include_labels
    )
    if config.is_streamed:
        sizes: Dict[str, Any] = dict(
            max_images=config.max_train_images,
            num_val=config.num_val or NUM_VALIDATION,
            num_reference=config.num_reference,
            seed=config.seed,
            **select,
        )
        # validate() above: a streamed source has its preprocessing, a file source its folder.
        preprocessing = cast(Preprocessing, config.preprocessing)
        streamed: ImageData
        if config.source.startswith("tfds:"):
            streamed = load_tfds_image_data(
                config.source[len("tfds:") :], preprocessing, config.root, **sizes
            )
        else:
            streamed = load_image_folder_data(
                config.source,
                cast(str, config.root),
                preprocessing,
                image_check=config.image_check,
                on_bad=config.bad_images,
                **sizes,
            )
        return dataclasses.replace(streamed, config=config)
    data = load_image_data(config.source, config.root, use_test_set=config.use_test_set)
    if config.max_labels or config.include_labels:
        train = label_mask(data.train_labels, **select)
        val = label_mask(data.val_labels, **select)
        if not train.any():
            raise DataError(
                f"No training image of {config.source} has a label kept by "
                "--max_labels / --include_labels."
            )
        data = dataclasses.replace(
            data,
            train_images=data.train_images[train],
            train_labels=data.train_labels[train],
            val_images=data.val_images[val],
            val_labels=data.val_labels[val],
        )
    if config.max_train_images:
        data = data.take(num_train=config.max_train_images)
    if config.preprocessing is not None:
        data = resize_image_data(
            data, config.preprocessing.crop_size, config.preprocessing.channels
        )
    return dataclasses.replace(data, config=config)
