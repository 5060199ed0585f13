"""Loading a TensorFlow Datasets image dataset by name into memory.

For users with a network (or a prepared TFDS data folder). The images come
back as uint8 [N, H, W, C] and labels as int32 [N], like the IDX loader's.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from bigan_tf.errors import DataError


def load_tfds_split(name: str, split: str, data_dir: Optional[str] = None,
                    download: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, H, W, C], labels int32 [N]) of one TFDS split."""
    import tensorflow_datasets as tfds  # Imported lazily: only TFDS users pay for it.

    try:
        dataset = tfds.load(name, split=split, data_dir=data_dir, as_supervised=True,
                            download=download, shuffle_files=False)
    except Exception as e:  # TFDS raises many types for unknown names and failed downloads.
        raise DataError(
            f"Could not load TFDS dataset {name!r} split {split!r}: {e}. Check the name "
            "(`tfds.list_builders()`), the network, or give --data_dir a prepared TFDS folder."
        ) from None
    images, labels = [], []
    for image_batch, label_batch in tfds.as_numpy(dataset.batch(10000)):
        images.append(image_batch)
        labels.append(label_batch)
    if not images:
        raise DataError(f"TFDS dataset {name!r} split {split!r} is empty.")
    images = np.concatenate(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise DataError(f"TFDS dataset {name!r} does not hold uint8 images [N, H, W, C] "
                        f"(got {images.dtype} {images.shape}).")
    return images, np.concatenate(labels).astype(np.int32)
