"""Reading IDX files (the MNIST format), gzipped or not, with clear errors.

An IDX file starts with a 4-byte magic number: two zero bytes, a type code
(0x08 = unsigned byte) and the number of dimensions; then one big-endian
uint32 per dimension, then the data. MNIST images are 3-D (N, 28, 28) and
labels 1-D (N,). Gzip is detected from the content, not the name.
"""

from __future__ import annotations

import gzip
import os
import zlib
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from bigan_tf.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE = 0x08


def _read_bytes(path: str) -> bytes:
    if not os.path.exists(path):
        raise DataError(f"File not found: {path}")
    if os.path.isdir(path):
        raise DataError(f"Expected a file but found a folder: {path}")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:  # unreadable: permissions, an I/O error
        raise DataError(
            f"Cannot read {path} ({e.strerror or e}): check its permissions, or "
            "copy the data somewhere readable and give that --data_dir."
        ) from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(
                f"{path} is a corrupt or truncated gzip file ({e}). "
                "Download it again or use the uncompressed file."
            ) from None
    return raw


def read_idx(path: str, expected_ndim: Optional[int] = None) -> np.ndarray:
    """Reads an unsigned-byte IDX file into a uint8 array of its stored shape.

    Raises `DataError` naming the path for a missing file, a wrong magic number,
    an unexpected number of dimensions, or a size that does not match the header.
    """
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"{path} is too short to be an IDX file ({len(data)} bytes).")
    zero1, zero2, dtype_code, ndim = data[0], data[1], data[2], data[3]
    if zero1 != 0 or zero2 != 0 or dtype_code != _UBYTE or ndim == 0:
        magic = int.from_bytes(data[:4], "big")
        raise DataError(
            f"{path} has magic number 0x{magic:08x}, which is not an unsigned-byte IDX file "
            "(expected 0x00000801 for labels or 0x00000803 for images). "
            "Is this the right file, and not e.g. an HTML error page?"
        )
    if expected_ndim is not None and ndim != expected_ndim:
        kind = (
            "images (3 dimensions, magic 0x00000803)"
            if expected_ndim == 3
            else "labels (1 dimension, magic 0x00000801)"
        )
        raise DataError(
            f"{path} has {ndim} dimensions; expected {kind}. Are the images and labels "
            "files swapped?"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path} is truncated inside its header.")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    actual = len(data) - header
    if actual != expected:
        what = "truncated" if actual < expected else "longer than its header says"
        raise DataError(
            f"{path} is {what}: the header declares shape {shape} ({expected} bytes of data) "
            f"but the file holds {actual}. Download it again."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _candidates(data_dir: str, split: str, kind: str, ndim: int) -> List[str]:
    base = [f"{split}-{kind}-idx{ndim}-ubyte", f"{split}-{kind}.idx{ndim}-ubyte"]
    return [os.path.join(data_dir, n + ext) for n in base for ext in ("", ".gz")]


def find_idx_file(data_dir: str, split: str, kind: str) -> str:
    """The path of `{split}-{kind}` under either MNIST naming convention, gzipped or not."""
    ndim = 3 if kind == "images" else 1
    tried = _candidates(data_dir, split, kind, ndim)
    for path in tried:
        if os.path.isfile(path):
            return path
    raise DataError(
        f"No {split} {kind} file in {data_dir}. Looked for: "
        + ", ".join(os.path.basename(p) for p in tried)
        + ". Point --data_dir at a folder with the MNIST IDX files."
    )


def load_idx_dataset(
    data_dir: str, splits: Sequence[str] = ("train", "t10k")
) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """{split: (images uint8 [N, H, W, 1], labels int32 [N])} from an IDX folder."""
    if not os.path.isdir(data_dir):
        raise DataError(
            f"Data folder not found: {data_dir}. Give --data_dir the folder that "
            "holds the MNIST IDX files (train-images-idx3-ubyte.gz, ...)."
        )
    result = {}
    for split in splits:
        images_path = find_idx_file(data_dir, split, "images")
        labels_path = find_idx_file(data_dir, split, "labels")
        images = read_idx(images_path, expected_ndim=3)
        labels = read_idx(labels_path, expected_ndim=1)
        if images.shape[0] != labels.shape[0]:
            raise DataError(
                f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
                f"{labels.shape[0]} labels; they must match. Are they from the same split?"
            )
        result[split] = (images[..., None], labels.astype(np.int32))
    return result
