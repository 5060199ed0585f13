"""The one reader of TensorFlow Datasets image datasets by name.

For users with a network (or a prepared TFDS data folder). `tfds_load`
fails fast offline; `tfds_pairs` gives a split's (image, label) pairs (the
streamed pipelines of `bigan_tf.data.image_files` read it), and
`load_tfds_split` the same pairs in memory: uint8 [N, H, W, C] and int32 [N],
like the IDX loader's. `prepare_offline` prepares a dataset from files
downloaded earlier (TFDS's own builder and checksums, no network), e.g.
`mnist` from the original IDX archives.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any, List, Optional, Tuple

import numpy as np
import tensorflow as tf

from bigan_tf.errors import DataError

# Where TFDS downloads from (its GCS mirror; the original sites are tried after).
DOWNLOAD_HOST = "storage.googleapis.com"


def network_reachable(host: str = DOWNLOAD_HOST, port: int = 443, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to `host:port` opens within about `timeout` seconds.

    The name lookup runs in a daemon thread because `getaddrinfo` has no timeout
    of its own: offline it can spend minutes in DNS retries.
    """
    addresses = []

    def lookup():
        try:
            addresses.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError:
            pass

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(timeout)
    for family, kind, proto, _, address in addresses[:2]:
        try:
            with socket.socket(family, kind, proto) as connection:
                connection.settimeout(timeout)
                connection.connect(address)
                return True
        except OSError:
            continue
    return False


def tfds_load(name: str, split: str, data_dir: Optional[str] = None, **kwargs: Any) -> Any:
    """`tfds.load(name, split=split, data_dir=data_dir, **kwargs)`, failing fast offline.

    A prepared dataset is read without touching the network. One that is not
    prepared is downloaded, but only after a quick check that TFDS's download
    server answers: offline, TFDS itself would spend minutes in DNS retries
    before failing. Raises `DataError` with the fix for an unknown name, an
    unprepared dataset without a network, or a failed download.
    """
    import tensorflow_datasets as tfds  # Imported lazily: only TFDS users pay for it.

    try:
        return tfds.load(name, split=split, data_dir=data_dir, download=False, **kwargs)
    except tfds.core.registered.DatasetNotFoundError:
        raise DataError(
            f"Unknown TFDS dataset {name!r}: check the name (`tfds.list_builders()` lists them)."
        ) from None
    except Exception as e:  # noqa: BLE001 - not prepared (AssertionError), bad split, ...
        if "could not find data" not in str(e):
            raise DataError(
                f"Could not load TFDS dataset {name!r} split {split!r}: {_first_line(e)}."
            ) from None
    where = data_dir or "TFDS's default folder (~/tensorflow_datasets)"
    if not network_reachable():
        raise DataError(
            f"TFDS dataset {name!r} is not prepared in {where} and {DOWNLOAD_HOST} cannot be "
            "reached to download it: run where there is a network, or prepare it from "
            f"downloaded files (`python -m trainers.prepare_tfds --name={name} "
            "--manual_dir=FILES --data_dir=DIR`) and pass --data_dir=DIR."
        )
    try:
        return tfds.load(name, split=split, data_dir=data_dir, download=True, **kwargs)
    except Exception as e:  # noqa: BLE001 - TFDS raises many types for failed downloads.
        raise DataError(
            f"Could not download TFDS dataset {name!r} into {where}: "
            f"{_first_line(e)}. Check the network, or give --data_dir a prepared "
            "TFDS folder."
        ) from None


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def tfds_pairs(
    name: str,
    split: str,
    data_dir: Optional[str] = None,
    shuffle_seed: Optional[int] = None,
    decoders: Any = None,
) -> tf.data.Dataset:
    """(image, label) pairs of a TFDS split; data sets without a "label" (celeb_a) get 0.

    `shuffle_seed` shuffles the files (reproducibly); `decoders` are TFDS's
    (e.g. skip decoding the images to count examples).
    """
    import tensorflow_datasets as tfds  # Imported lazily: only TFDS users pay for it.

    read_config = tfds.ReadConfig(shuffle_seed=shuffle_seed) if shuffle_seed is not None else None
    examples = tfds_load(
        name,
        split,
        data_dir,
        decoders=decoders,
        shuffle_files=shuffle_seed is not None,
        read_config=read_config,
    )

    def pair(example):
        if "image" not in example:
            raise DataError(
                f"TFDS dataset {name!r} has no 'image' feature (features: {sorted(example)})."
            )
        label = example["label"] if "label" in example else tf.constant(0, tf.int64)
        return example["image"], label

    return examples.map(pair)


def load_tfds_split(
    name: str, split: str, data_dir: Optional[str] = None
) -> Tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, H, W, C], labels int32 [N]) of one TFDS split, in memory."""
    batches: List[np.ndarray] = []
    labels: List[np.ndarray] = []
    try:
        for image_batch, label_batch in (
            tfds_pairs(name, split, data_dir).batch(10000).as_numpy_iterator()
        ):
            batches.append(image_batch)
            labels.append(label_batch)
    except (tf.errors.OpError, OSError) as e:  # a truncated or missing shard
        reason = (str(getattr(e, "message", e)).strip().splitlines() or [""])[0][:200]
        raise DataError(
            f"TFDS dataset {name!r} split {split!r} in {data_dir} cannot be read "
            f"({reason}): a shard is missing or damaged; prepare it again "
            "(python -m trainers.prepare_tfds)."
        ) from None
    if not batches:
        raise DataError(f"TFDS dataset {name!r} split {split!r} is empty.")
    images = np.concatenate(batches)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise DataError(
            f"TFDS dataset {name!r} does not hold uint8 images [N, H, W, C] "
            f"(got {images.dtype} {images.shape})."
        )
    return images, np.concatenate(labels).astype(np.int32)


def prepare_offline(name: str, manual_dir: str, data_dir: str) -> str:
    """Prepares TFDS dataset `name` in `data_dir` from files already in `manual_dir`.

    TFDS's own builder runs; it takes each file it would download from
    `manual_dir` (by its registered file name, e.g. `train-images-idx3-ubyte.gz`)
    after checking it against TFDS's registered size and checksum, so nothing is
    fetched. Returns the prepared version's folder. Raises `DataError` naming
    what is missing.
    """
    import tensorflow_datasets as tfds

    if not os.path.isdir(manual_dir):
        raise DataError(f"--manual_dir {manual_dir!r} is not a folder of downloaded files.")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # noqa: BLE001 - TFDS raises several types for unknown names
        raise DataError(
            f"Unknown TFDS dataset {name!r} ({str(e).splitlines()[0][:200]})."
        ) from None
    # Every file must be there before TFDS starts: a missing one would be downloaded.
    expected = sorted(
        {info.filename for info in (builder.url_infos or {}).values() if info.filename}
    )
    if not expected:
        raise DataError(
            f"TFDS registers no file names for {name!r}, so it cannot be prepared "
            "from a folder of downloads; prepare it on a machine with a network."
        )
    missing = [f for f in expected if not os.path.exists(os.path.join(manual_dir, f))]
    if missing:
        raise DataError(
            f"Cannot prepare TFDS dataset {name!r} without a network: "
            f"{manual_dir} lacks {', '.join(missing)} (needs {', '.join(expected)})."
        )
    try:
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(
                manual_dir=manual_dir, try_download_gcs=False
            )
        )
    except Exception as e:  # noqa: BLE001 - bad checksums, unreadable files...
        raise DataError(
            f"Could not prepare TFDS dataset {name!r} from {manual_dir} without a network "
            f"({_first_line(e)}). The folder must hold the files TFDS would download, under their "
            "original names (for mnist: train-images-idx3-ubyte.gz and the other three)."
        ) from None
    return str(builder.data_path)
