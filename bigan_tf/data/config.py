"""`DataConfig` lives in `bigan_tf.config.data`; this name is kept for code that imports it here."""

from bigan_tf.config.data import (
    BAD_IMAGE_POLICIES,
    FILE_SOURCES,
    IMAGE_CHECKS,
    IN_MEMORY_SOURCES,
    SOURCES_HELP,
    DataConfig,
    Preprocessing,
)

__all__ = [
    "BAD_IMAGE_POLICIES",
    "FILE_SOURCES",
    "IMAGE_CHECKS",
    "IN_MEMORY_SOURCES",
    "SOURCES_HELP",
    "DataConfig",
    "Preprocessing",
]
