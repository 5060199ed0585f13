"""Errors that carry a message meant for the user, not a traceback.

Library code raises these for bad input (a missing or corrupt file, a wrong
shape, an invalid configuration value, a diverged loss). Each message names the
problem and says how to fix it. Trainers catch `BiganError` and print the
message alone, exiting with a non-zero status.
"""


class BiganError(Exception):
    """Base class of the errors bigan_tf reports to users."""


class DataError(BiganError, ValueError):
    """A data file or folder is missing, unreadable, corrupt or inconsistent."""


class ConfigError(BiganError, ValueError):
    """A configuration value (a flag, a weight, a size) is invalid."""


class CheckpointError(BiganError, ValueError):
    """A checkpoint is missing or does not match the model."""


class TrainingDivergedError(BiganError, RuntimeError):
    """A loss became NaN or infinite; training stopped before saving it."""
