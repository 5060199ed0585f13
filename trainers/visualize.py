r"""The paper's figures from a trained model.

    python -m trainers.visualize --model=exp/mnist_bigan --what=filters --output=filters.png
    python -m trainers.visualize --model=exp/mnist_bigan --what=neighbours --output=nn.png
    python -m trainers.visualize --model=exp/mnist_bigan --what=figure4 --output=fig4.png

* filters (Figure 3): the first-layer filters of E and D and G's last layer. For
  the AlexNet encoder the 96 11×11×3 conv1 kernels, each normalised, its two
  groups one above the other; for the MLPs the `--num` largest first-layer
  weight vectors, drawn as 28×28 images.
* neighbours (Appendix C.2): for `--num` validation images, their 5 nearest
  training images under E's penultimate features, and, beside them, under raw
  pixels.
* figure4 (Figure 4): `--num` samples G(z), `--num` real images x and their
  reconstructions G(E(x)), in aligned rows.

`--model` is a training run (config.json + checkpoints/; `--epoch`).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from absl import app, flags

from trainers.cli import define_model_flags, model_dataset, run_main
from trainers.option_flags import define_option_flags

FLAGS = flags.FLAGS
define_model_flags()


@dataclasses.dataclass(frozen=True)
class FigureOptions:
    """Which figure, and where (each field is a flag of the same name).

    output  PNG file to write.
    what    Which figure.
    num     Queries (neighbours), columns (figure4), or the most filters drawn of an MLP
            layer (x10).
    seed    Seed of the samples' z.
    """

    output: str
    what: Literal["filters", "neighbours", "figure4"] = "filters"
    num: int = 10
    seed: int = 0


define_option_flags(FigureOptions)


NEIGHBOURS = 5


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    import numpy as np
    import tensorflow as tf
    from bigan_tf.checkpoints import load_trained_model
    from bigan_tf.data import load_image_data
    from bigan_tf.data.image_files import match_image_shape
    from bigan_tf.errors import ConfigError
    from bigan_tf.figures import first_layer_filters, nearest_indices
    from bigan_tf.images import make_grid
    from bigan_tf.plots import plot_image_panels
    from bigan_tf.prior import sample_prior

    if FLAGS.num < 1:
        raise ConfigError(f"--num must be >= 1, got {FLAGS.num}.")
    trained = load_trained_model(FLAGS.model, FLAGS.epoch)
    model, network = trained.model, trained.network
    shape = tuple(network.image_shape)
    title = f"{FLAGS.model}, epoch {trained.epoch}"
    if FLAGS.what == "filters":
        panels = []
        names = {"E": "E, first layer", "D": "D, first layer", "G": "G, last layer"}
        encoder_groups = getattr(getattr(model.encoder, "conv2", None), "groups", 1)
        for key, tiles in first_layer_filters(model, shape, top=10 * FLAGS.num).items():
            # A white border around each tile keeps neighbouring filters apart.
            framed = np.pad(tiles, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=1.0)
            # AlexNet's conv2 reads conv1's filters in groups: one block per group.
            groups = encoder_groups if key == "E" and len(tiles) % encoder_groups == 0 else 1
            blocks = []
            for block in np.split(framed, groups):
                rows = max(
                    1, int(np.sqrt(len(block) / 2)) if groups > 1 else int(np.sqrt(len(block)))
                )
                while len(block) % rows:
                    rows -= 1
                blocks.append(make_grid(block, rows))
            gap = np.full((4, blocks[0].shape[1], blocks[0].shape[2]), 255, np.uint8)
            grid = np.concatenate([part for b in blocks for part in (b, gap)][:-1])
            label = f"{names[key]}: {len(tiles)} filters" + (
                f" in {groups} groups" if groups > 1 else ""
            )
            panels.append((label, grid))
        path = plot_image_panels(panels, FLAGS.output, title)
    else:
        if model.encoder is None:
            raise ConfigError(
                f"{FLAGS.model} has no encoder (a plain GAN): --what={FLAGS.what} needs one."
            )
        data = load_image_data(*model_dataset(FLAGS.model, FLAGS.dataset, FLAGS.data_dir))
        data = match_image_shape(data, network.encoder_image_shape)
        to_x = lambda images: tf.reshape(
            tf.cast(images, tf.float32) / 255.0, [-1, *model.data_shape]
        )
        queries = data.val_images[: FLAGS.num]
        if FLAGS.what == "neighbours":
            references = data.train_images[:20000]
            features = lambda images: np.concatenate(
                [
                    model.encoder(to_x(images[i : i + 500]), training=False)["features"].numpy()
                    for i in range(0, len(images), 500)
                ]
            )
            by_features = nearest_indices(features(queries), features(references), NEIGHBOURS)
            by_pixels = nearest_indices(
                queries.astype(np.float32), references.astype(np.float32), NEIGHBOURS
            )
            rows = [
                np.concatenate(
                    [queries[i : i + 1], references[by_features[i]], references[by_pixels[i]]]
                )
                for i in range(len(queries))
            ]
            grid = make_grid(np.concatenate(rows).astype(np.float32) / 255.0, len(queries))
            path = plot_image_panels(
                [
                    (
                        f"query | {NEIGHBOURS} nearest by E's features | {NEIGHBOURS} "
                        "nearest by pixels",
                        grid,
                    )
                ],
                FLAGS.output,
                title,
            )
        else:
            z = sample_prior(FLAGS.num, network.latent_dim, tf.constant([FLAGS.seed, 1], tf.int64))
            labels = tf.constant(data.val_labels[: FLAGS.num]) if model.is_conditional else None
            x = to_x(queries)
            samples = tf.reshape(model.generate(z, labels), [-1, *shape]).numpy()
            recon = tf.reshape(
                model.generate(model.encoder(x)["latent"], labels), [-1, *shape]
            ).numpy()
            real = tf.reshape(model.at_generator_resolution(x), [-1, *shape]).numpy()
            path = plot_image_panels(
                [
                    ("G(z)", make_grid(samples, 1)),
                    ("x", make_grid(real, 1)),
                    ("G(E(x))", make_grid(recon, 1)),
                ],
                FLAGS.output,
                title,
            )
    print(f"Wrote {path}")
    return 0


def run():
    run_main(main, "visualize")


if __name__ == "__main__":
    run()
