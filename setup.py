"""bigan_tf's metadata lives in pyproject.toml (PEP 621); this file lets older tools install it."""

from setuptools import setup

setup()
