"""Experiment definitions: one module per experiment, each building typed configs."""
