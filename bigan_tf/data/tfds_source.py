"""Loading a TensorFlow Datasets image dataset by name into memory.

For users with a network (or a prepared TFDS data folder). The images come
back as uint8 [N, H, W, C] and labels as int32 [N], like the IDX loader's.
`prepare_offline` prepares a dataset from files downloaded earlier (TFDS's
own builder and checksums, no network), e.g. `mnist` from the original IDX
archives.
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


def prepare_offline(name: str, manual_dir: str, data_dir: str) -> str:
    """Prepares TFDS dataset `name` in `data_dir` from files already in `manual_dir`.

    TFDS's own builder runs; it takes each file it would download from
    `manual_dir` (by its registered file name, e.g. `train-images-idx3-ubyte.gz`)
    after checking it against TFDS's registered size and checksum, so nothing is
    fetched. Returns the prepared version's folder. Raises `DataError` naming
    what is missing.
    """
    import os

    import tensorflow_datasets as tfds

    if not os.path.isdir(manual_dir):
        raise DataError(f"--manual_dir {manual_dir!r} is not a folder of downloaded files.")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # noqa: BLE001 - TFDS raises several types for unknown names
        raise DataError(f"Unknown TFDS dataset {name!r} ({str(e).splitlines()[0][:200]}).") \
            from None
    # Every file must be there before TFDS starts: a missing one would be downloaded.
    expected = sorted({info.filename for info in (builder.url_infos or {}).values()
                       if info.filename})
    if not expected:
        raise DataError(f"TFDS registers no file names for {name!r}, so it cannot be prepared "
                        "from a folder of downloads; prepare it on a machine with a network.")
    missing = [f for f in expected if not os.path.exists(os.path.join(manual_dir, f))]
    if missing:
        raise DataError(f"Cannot prepare TFDS dataset {name!r} without a network: "
                        f"{manual_dir} lacks {', '.join(missing)} (needs {', '.join(expected)}).")
    try:
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
            manual_dir=manual_dir, try_download_gcs=False))
    except Exception as e:  # noqa: BLE001 - bad checksums, unreadable files...
        message = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise DataError(
            f"Could not prepare TFDS dataset {name!r} from {manual_dir} without a network "
            f"({message}). The folder must hold the files TFDS would download, under their "
            "original names (for mnist: train-images-idx3-ubyte.gz and the other three)."
        ) from None
    return str(builder.data_path)
