r"""Exports a trained encoder as a TF-Hub image feature vector module.

    python -m export.export_hub --exp_dir=exp/mnist_bigan --output=exports/mnist_encoder
    python -m export.export_hub --exp_dir=... --output=... --output_key=latent --epoch=100

The module is a Reusable SavedModel: `hub.load(DIR)(images, training=False)`
maps float32 [batch, H, W, C] images in [0, 1] to [batch, num_features]. It
loads with `hub.load`, `hub.KerasLayer(DIR, trainable=True)` in tf_keras,
`bigan_tf.hub.EncoderLayer(DIR, trainable=True)` in Keras 3, and
`keras.layers.TFSMLayer(DIR, call_endpoint="call_inference",
call_training_endpoint="call_training")`. `bigan_tf.json` in the folder
describes the input, the output, the training run and its last evaluation.
"""

from __future__ import annotations


from absl import app, flags

from export.common_flags import define_source_flags, run_export
from trainers.cli import run_main

FLAGS = flags.FLAGS
define_source_flags()
flags.DEFINE_enum(
    "output_key",
    "features",
    ("features", "latent"),
    "Root output: the penultimate 'e-' features (best for transfer in the paper) "
    "or the latent z = E(x). Both are available as module.features / module.latent.",
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")

    def export():
        from bigan_tf.checkpoints import load_trained_model
        from bigan_tf.hub import ExportError
        from bigan_tf.export.exporters import export_hub_module

        trained = load_trained_model(FLAGS.exp_dir, FLAGS.epoch)
        if FLAGS.output_key == "latent" and trained.model.encoder is None:
            raise ExportError(
                f"{FLAGS.exp_dir} trained a plain GAN, which has no encoder and so "
                "no latent output; export --output_key=features (D's features)."
            )
        return export_hub_module(
            trained.model,
            trained.network,
            FLAGS.output,
            FLAGS.output_key,
            trained.optimizer.weight_decay,
            FLAGS.overwrite,
            trained,
        )

    return run_export(export)


def run():
    run_main(main, "export_hub")


if __name__ == "__main__":
    run()
