"""The export command lines (export_hub.py, export_saved_model.py) and their shared flags.

What they write is written by the library, `bigan_tf.export`.
"""
