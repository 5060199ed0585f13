r"""Exports every network of a trained model as a SavedModel with serving signatures.

    python -m export.export_saved_model --exp_dir=exp/mnist_bigan --output=exports/mnist_bigan

Signatures (callable with only TensorFlow, e.g. `tf.saved_model.load(DIR).signatures`
or TF Serving): `encode(images)` -> {latent, features}; `generate(z)` -> {images};
`reconstruct(images)` -> {images, latent}; `discriminate(images, z)` ->
{logits, probabilities}; `serving_default` = `encode`. A semi-supervised GAN run
(trainers.train_ssgan) gives `classify(images)` -> {probabilities, classes,
logits} and `generate(z)` -> {images}; `serving_default` = `classify`. Images
are float32 [batch, H, W, C] in [0, 1]. `bigan_tf.json` lists the signatures'
shapes.
"""

from __future__ import annotations


from absl import app, flags

from export.common_flags import define_source_flags, run_export
from trainers.cli import run_main

FLAGS = flags.FLAGS
define_source_flags()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")

    def export():
        from bigan_tf.checkpoints import load_trained_model
        from bigan_tf.run_dir import read_config
        from bigan_tf.export.exporters import export_saved_model, export_ssgan_saved_model
        from bigan_tf.ssgan import load_trained_ssgan

        if (read_config(FLAGS.exp_dir) or {}).get("model") == "ssgan":
            model, record, epoch = load_trained_ssgan(FLAGS.exp_dir, FLAGS.epoch)
            return export_ssgan_saved_model(
                model, FLAGS.output, FLAGS.overwrite, record, epoch, FLAGS.exp_dir
            )
        trained = load_trained_model(FLAGS.exp_dir, FLAGS.epoch)
        return export_saved_model(
            trained.model, trained.network, FLAGS.output, FLAGS.overwrite, trained
        )

    return run_export(export)


def run():
    run_main(main, "export_saved_model")


if __name__ == "__main__":
    run()
