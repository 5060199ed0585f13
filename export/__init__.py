"""Exporters (SavedModel, TF-Hub encoder module): depend on bigan_tf, never the reverse.

The exporters themselves arrive with the export issue; this package is their home.
"""
