r"""Presizes an image tree so the short edge of every image is SIZE (the original's tool).

    python -m trainers.resize_imageset [-j N] [-o] [-q] SIZE IN_DIR OUT_DIR
    python -m trainers.resize_imageset -j 16 72 data/imagenet data/imagenet72

Mirrors IN_DIR's sub-folders under OUT_DIR. Each image is resized in
proportion with an antialiasing (Lanczos) filter, as the original's
`resize_imageset.py` does (JPEG quality 95, other formats kept); images whose
short edge is already SIZE are copied. Outputs that exist are skipped unless
-o. Unreadable files are listed by name at the end (exit status 1) and the
rest are still written. `train_imagenet --dataset=list` uses
`<data_dir><raw_size>` (e.g. data/imagenet72) when it exists.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import sys
import time
from typing import List, Optional, Tuple

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def resize_one(size: int, source: str, target: str, overwrite: bool) -> Tuple[str, Optional[str]]:
    """("written"|"skipped"|"copied", None) or ("failed", reason) for one file."""
    from PIL import Image

    if not overwrite and os.path.exists(target):
        return "skipped", None
    try:
        with Image.open(source) as image:
            width, height = image.size
            if min(width, height) == size:
                action = "copied"
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(source, target + ".tmp")
            else:
                scale = size / min(width, height)
                new_size = (max(size, round(width * scale)), max(size, round(height * scale)))
                image.draft(None, new_size)  # JPEG: decode at a reduced scale when possible
                resized = image.convert("RGB" if image.mode not in ("L", "RGB") else image.mode)
                resized = resized.resize(new_size, Image.LANCZOS)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                save = {"quality": 95} if target.lower().endswith((".jpg", ".jpeg")) else {}
                resized.save(target + ".tmp", format=image.format or None, **save)
                action = "written"
    except Exception as e:  # PIL raises many types for bad files
        return "failed", f"{type(e).__name__}: {e}"
    os.replace(target + ".tmp", target)  # never a half-written output
    return action, None


def image_files(root: str) -> List[str]:
    """Paths of the images under `root`, relative to it, sorted."""
    found = []
    for directory, _, files in os.walk(root):
        for name in files:
            if name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(os.path.relpath(os.path.join(directory, name), root))
    return sorted(found)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="resize_imageset", description=__doc__.split("\n\n")[0])
    parser.add_argument("size", type=int, help="Short edge of the outputs, in pixels.")
    parser.add_argument("in_dir", help="Image tree to read.")
    parser.add_argument("out_dir", help="Where to write the resized tree.")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="Parallel worker processes (0 = serial). Default: all CPUs.",
    )
    parser.add_argument(
        "-o", "--overwrite", action="store_true", help="Redo outputs that already exist."
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="No progress lines.")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error(f"SIZE must be a positive number of pixels, got {args.size}.")
    if not os.path.isdir(args.in_dir):
        parser.error(f"{args.in_dir} is not a folder.")
    if os.path.abspath(args.in_dir) == os.path.abspath(args.out_dir):
        parser.error("IN_DIR and OUT_DIR must differ (the originals would be overwritten).")
    files = image_files(args.in_dir)
    if not files:
        parser.error(f"No image files ({', '.join(IMAGE_EXTENSIONS)}) under {args.in_dir}.")
    tasks = [
        (args.size, os.path.join(args.in_dir, f), os.path.join(args.out_dir, f), args.overwrite)
        for f in files
    ]
    counts = {"written": 0, "copied": 0, "skipped": 0, "failed": 0}
    failures = []
    start = time.time()
    report_every = max(1, len(tasks) // 20)
    if args.jobs > 0:
        executor = concurrent.futures.ProcessPoolExecutor(args.jobs)
        results = executor.map(resize_one, *zip(*tasks), chunksize=16)
    else:
        executor, results = None, (resize_one(*t) for t in tasks)
    try:
        for i, ((action, reason), task) in enumerate(zip(results, tasks), start=1):
            counts[action] += 1
            if reason:
                failures.append(f"{task[1]} ({reason})")
            if not args.quiet and (i % report_every == 0 or i == len(tasks)):
                rate = i / max(time.time() - start, 1e-9)
                print(
                    f"{i}/{len(tasks)} images ({rate:.0f}/s): "
                    + ", ".join(f"{k} {v}" for k, v in counts.items()),
                    flush=True,
                )
    finally:
        if executor is not None:
            executor.shutdown()
    if failures:
        print(
            f"resize_imageset: error: {len(failures)} image(s) could not be read:", file=sys.stderr
        )
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
