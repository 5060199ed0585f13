"""Writing exports: the encoder as a TF-Hub module, every network as a SavedModel.

`modules` holds the `tf.Module`s that are saved (their serving signatures and
the hub module's fine-tuning `__call__`); `exporters` writes them safely
(atomically, refusing to replace anything but an export) with the
`bigan_tf.json` metadata that `bigan_tf.hub` reads back. The command lines are
`export/export_hub.py` and `export/export_saved_model.py`.
"""
