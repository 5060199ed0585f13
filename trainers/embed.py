r"""Embedding views of E(x): TensorBoard projector files and a t-SNE scatter PNG.

    python -m trainers.embed --model=exp/mnist_bigan --output_dir=exp/mnist_bigan/projector
    tensorboard --logdir=exp/mnist_bigan/projector        # the Projector tab

--model is a training run or a SavedModel export (as for trainers.sample). The
first --num_images validation images of --dataset are encoded to z = E(x);
the folder gets the projector files (embedding checkpoint, metadata.tsv with
labels, sprite.png, projector_config.pbtxt, vectors.tsv) and tsne.png.
"""

from __future__ import annotations

import dataclasses
import os

from absl import app, flags

from trainers.cli import define_model_flags, model_dataset, run_main
from trainers.option_flags import define_option_flags

FLAGS = flags.FLAGS
define_model_flags()


@dataclasses.dataclass(frozen=True)
class EmbedOptions:
    """What to embed, and where (each field is a flag of the same name).

    output_dir  Folder for the projector files and tsne.png.
    num_images  Validation images to embed.
    tsne        Also write tsne.png (scikit-learn t-SNE).
    seed        Seed of t-SNE.
    """

    output_dir: str
    num_images: int = 2000
    tsne: bool = True
    seed: int = 0


define_option_flags(EmbedOptions)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    import numpy as np

    from bigan_tf.data import load_image_data
    from bigan_tf.data.image_files import match_image_shape
    from bigan_tf.embeddings import tsne_scatter, write_projector
    from bigan_tf.sampling import LatentModel

    model = LatentModel.load(FLAGS.model, FLAGS.epoch)
    data = load_image_data(*model_dataset(FLAGS.model, FLAGS.dataset, FLAGS.data_dir)).take(
        num_train=0, num_val=FLAGS.num_images
    )
    data = match_image_shape(data, model.encoder_image_shape)  # e.g. MNIST for a conv model
    images = data.val_images.astype(np.float32) / 255.0
    vectors = model.encode(images)
    write_projector(FLAGS.output_dir, vectors, data.val_labels, images)
    print(f"Wrote projector files for {len(vectors)} images to {FLAGS.output_dir}")
    if FLAGS.tsne:
        path = os.path.join(FLAGS.output_dir, "tsne.png")
        tsne_scatter(
            path,
            vectors,
            data.val_labels,
            FLAGS.seed,
            title=f"t-SNE of E(x), {len(vectors)} validation images: {FLAGS.model}"
            + (f", epoch {model.epoch}" if model.epoch is not None else ""),
        )
        print(f"Wrote {path}")
    return 0


def run():
    run_main(main, "embed")


if __name__ == "__main__":
    run()
