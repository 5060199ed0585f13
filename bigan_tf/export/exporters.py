"""Writing exports safely, and the metadata file every export carries.

An export is written into a temporary sibling folder and renamed into place
only when it is complete, so a crash or a kill never leaves a half-written
module under the requested name. An existing output folder is refused unless
`overwrite=True`, and even then only when it is itself an export (it carries
`bigan_tf.json`): a run folder, its parent or any other file or folder is
never replaced. The old export is moved aside first and removed only after the
new one is in place.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from bigan_tf.bigan import BiGAN
from bigan_tf.checkpoints import TrainedModel
from bigan_tf.config import NetworkConfig, Objective
from bigan_tf.evaluation.deploy import deploy_batch_norm_on_images
from bigan_tf.run_dir import read_metrics, umask_permissions
from bigan_tf.export.modules import BiGANSavedModel, HubEncoderModule, SSGANSavedModel
from bigan_tf.hub import METADATA_FILE, ExportError, read_export_metadata, resolve_handle
from bigan_tf.locks import FolderLock
from bigan_tf.networks.layers import unsynchronized_batch_norm

FORMAT_VERSION = 1
# Batches of the random-init baseline's deploy pass when the exported run had none (it
# kept batch norm's moving averages).
DEFAULT_DEPLOY_ITERS = 100


@contextlib.contextmanager
def atomic_export_dir(output: str, overwrite: bool = False) -> Iterator[str]:
    """Yields a temporary folder; on success it becomes `output`, on error it is removed.

    One exporter writes an `output` at a time (a `FolderLock` beside it); the
    temporary folders of killed exports of the same `output` are removed first.
    """
    output = os.path.abspath(output)
    check_export_output(output, overwrite)
    parent = os.path.dirname(output)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as e:
        raise ExportError(
            f"Cannot write the export next to {output} ({e.strerror or e}): "
            "choose a writable --output."
        ) from None
    with FolderLock(
        os.path.join(parent, f".{os.path.basename(output)}.lock"), f"the export {output}"
    ):
        check_export_output(output, overwrite)  # another exporter may have finished it
        with _export_into(output, parent) as tmp:
            yield tmp


@contextlib.contextmanager
def _export_into(output: str, parent: str) -> Iterator[str]:
    try:
        for stale in glob.glob(os.path.join(parent, f".{os.path.basename(output)}.tmp-*")):
            # Left by an export that was killed: no process writes it any more
            # (exports of one --output hold its lock).
            shutil.rmtree(stale, ignore_errors=True)
        tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(output)}.tmp-")
        umask_permissions(tmp, directory=True)
    except OSError as e:
        raise ExportError(
            f"Cannot write the export next to {output} ({e.strerror or e}): "
            "choose a writable --output."
        ) from None
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if os.path.exists(output):
        old = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(output)}.old-")
        os.rmdir(old)
        os.replace(output, old)
    os.replace(tmp, output)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_export_output(output: str, overwrite: bool) -> None:
    """Refuses an `--output` that exists, unless `overwrite` and it is an export itself."""
    if not os.path.lexists(output):
        return
    if not overwrite:
        raise ExportError(
            f"{output} already exists; choose another --output or pass "
            "--overwrite (which replaces an earlier export only)."
        )
    if not os.path.isdir(output) or os.path.islink(output):
        raise ExportError(
            f"--overwrite replaces only an earlier export, and {output} is not a "
            "folder: choose another --output."
        )
    if not os.path.exists(os.path.join(output, METADATA_FILE)):
        raise ExportError(
            f"--overwrite replaces only an earlier export (a folder with "
            f"{METADATA_FILE}), and {output} is not one (a run folder or other "
            "data?): nothing was changed; choose another --output."
        )


def last_metrics(exp_dir: str, epoch: int) -> Optional[Dict]:
    """The newest evaluation record of `exp_dir` at or before `epoch`, if any."""
    records = [r for r in read_metrics(exp_dir) if r.get("epoch", -1) <= epoch]
    return records[-1] if records else None


def encoder_layers(encoder: keras.Model, module_variables: Sequence[tf.Variable]) -> List[Dict]:
    """The encoder's layers in forward order, each with its indices into `module_variables`.

    A layer is a sub-layer that owns trainable weights; a sub-layer with only
    non-trainable state (parameter-free batch norm) joins the layer before it.
    This is what `bigan_tf.hub.EncoderLayer(frozen_layers=K)` freezes.
    """
    index = {id(v): i for i, v in enumerate(module_variables)}
    layers: List[Dict] = []
    for layer in encoder.layers:
        ids = [index[id(w.value)] for w in layer.weights if id(w.value) in index]
        if not ids:
            continue
        if any(w.trainable for w in layer.weights) or not layers:
            layers.append({"name": layer.name, "variables": ids})
        else:
            layers[-1]["variables"].extend(ids)
    return layers


def variable_paths(
    networks: Sequence[Optional[keras.Model]], module_variables: Sequence[tf.Variable]
) -> List[str]:
    """Keras paths ("encoder/hidden1/kernel") of `module_variables`, in order."""
    paths = {id(w.value): w.path for net in networks if net is not None for w in net.weights}
    return [paths.get(id(v), v.name) for v in module_variables]


def metadata(
    kind: str, network: NetworkConfig, trained: Optional[TrainedModel] = None, **extra: Any
) -> Dict:
    """The common part of every export's `bigan_tf.json`.

    `network` is the `NetworkConfig`; `trained` (when the export comes from a
    training run) adds the epoch, checkpoint, training configuration and the
    last evaluation's metrics.
    """
    h, w, c = network.encoder_image_shape
    record = {
        "format": f"bigan_tf.{kind}",
        "format_version": FORMAT_VERSION,
        "input": {
            "dtype": "float32",
            "shape": [None, h, w, c],
            "range": [0.0, 1.0],
            "layout": "NHWC",
        },
        "network": network.to_dict(),
        "latent_dim": network.latent_dim,
    }
    if trained is not None:
        exp_dir = os.path.dirname(os.path.dirname(trained.checkpoint_path))
        record.update(
            epoch=trained.epoch,
            checkpoint=trained.checkpoint_path,
            training_config=trained.config,
            last_evaluation=last_metrics(exp_dir, trained.epoch),
        )
    record.update(extra)
    return record


def export_hub_module(
    model: keras.Model,
    network: NetworkConfig,
    output_dir: str,
    output: str = "features",
    weight_decay: float = 0.0,
    overwrite: bool = False,
    trained: Optional[TrainedModel] = None,
) -> str:
    """Writes the TF-Hub image feature vector module of `model`'s encoder to `output_dir`.

    For a model without an encoder (the plain GAN) the module is its x-only
    discriminator's penultimate features.
    """
    has_encoder = model.encoder is not None
    encoder = model.encoder if has_encoder else model.discriminator
    # Traced single-replica: see unsynchronized_batch_norm.
    with atomic_export_dir(output_dir, overwrite) as tmp, unsynchronized_batch_norm(encoder):
        module = HubEncoderModule(
            encoder, network.encoder_image_shape, output, weight_decay, has_latent=has_encoder
        )
        tf.saved_model.save(module, tmp, signatures=module.signatures())
        write_metadata(
            tmp,
            metadata(
                "hub_encoder",
                network,
                trained,
                output={
                    "name": output,
                    "size": module.output_size,
                    "source": "encoder" if has_encoder else "discriminator",
                },
                weight_decay=weight_decay,
                variable_paths=variable_paths(model.networks, module.variables),
                layers=encoder_layers(encoder, module.variables),
                loading={
                    "hub.load": "hub.load(DIR)(images, training=False)",
                    "tf_keras": "hub.KerasLayer(DIR, trainable=True)",
                    "keras3": "bigan_tf.hub.EncoderLayer(DIR, trainable=True)",
                    "TFSMLayer": "keras.layers.TFSMLayer(DIR, call_endpoint='call_inference', "
                    "call_training_endpoint='call_training')",
                },
            ),
        )
    return os.path.abspath(output_dir)


def export_saved_model(
    model: keras.Model,
    network: NetworkConfig,
    output_dir: str,
    overwrite: bool = False,
    trained: Optional[TrainedModel] = None,
) -> str:
    """Writes every network of `model` behind serving signatures to `output_dir`."""
    with atomic_export_dir(output_dir, overwrite) as tmp, unsynchronized_batch_norm(model):
        module = BiGANSavedModel(
            model, network.image_shape, network.latent_dim, network.encoder_image_shape
        )
        signatures = module.signatures()
        tf.saved_model.save(module, tmp, signatures=signatures)
        write_metadata(
            tmp, metadata("saved_model", network, trained, signatures=_describe(signatures))
        )
    return os.path.abspath(output_dir)


def _describe(signatures) -> Dict[str, Dict]:
    """Input and output shapes of each signature, for bigan_tf.json."""
    described = {}
    for name, fn in signatures.items():
        concrete = fn.get_concrete_function()
        described[name] = {
            "inputs": {
                spec.name: spec.shape.as_list() for spec in concrete.structured_input_signature[0]
            },
            "outputs": {
                key: value.shape.as_list() for key, value in concrete.structured_outputs.items()
            },
        }
    return described


def export_ssgan_saved_model(
    model: keras.Model,
    output_dir: str,
    overwrite: bool = False,
    record: Optional[Dict] = None,
    epoch: Optional[int] = None,
    exp_dir: Optional[str] = None,
) -> str:
    """Writes a semi-supervised GAN's classifier and generator behind serving signatures
    (`SSGANSavedModel`); `record`, `epoch` and `exp_dir` describe the training run."""
    config = model.config
    h, w, c = config.image_shape
    with atomic_export_dir(output_dir, overwrite) as tmp, unsynchronized_batch_norm(model):
        module = SSGANSavedModel(model)
        signatures = module.signatures()
        tf.saved_model.save(module, tmp, signatures=signatures)
        write_metadata(
            tmp,
            {
                "format": "bigan_tf.ssgan_saved_model",
                "format_version": FORMAT_VERSION,
                "input": {
                    "dtype": "float32",
                    "shape": [None, h, w, c],
                    "range": [0.0, 1.0],
                    "layout": "NHWC",
                },
                "ssgan": config.to_dict(),
                "num_classes": config.num_classes,
                "latent_dim": config.latent_dim,
                "epoch": epoch,
                "training_config": record,
                "last_evaluation": (
                    last_metrics(exp_dir, epoch) if exp_dir and epoch is not None else None
                ),
                "signatures": _describe(signatures),
            },
        )
    return os.path.abspath(output_dir)


def write_metadata(export_dir: str, record: Dict) -> None:
    with open(os.path.join(export_dir, METADATA_FILE), "w") as f:
        json.dump(record, f, indent=2, default=str)
        f.write("\n")


def export_random_init_like(
    handle: str,
    output_dir: str,
    seed: int = 0,
    training_images: Optional[np.ndarray] = None,
    training_labels: Optional[np.ndarray] = None,
    deploy_iters: Optional[int] = None,
) -> str:
    """Exports a freshly initialised encoder with the architecture a bigan_tf export has.

    The transfer baseline (`--init=random`): the same networks, objective-
    dependent initialisation and output, loaded the same way, no training.
    With `training_images` ([N, H, W, C] in [0, 1], the module's input) its
    batch-norm test-time statistics are set as the trained encoder's are, by the
    original's deploy pass over `deploy_iters` batches of 128 (default:
    the exported run's own `deploy_iters`, else `DEFAULT_DEPLOY_ITERS`); without
    them they keep their initial values (mean 0, variance 1), not the statistics
    of any data, which handicaps the baseline wherever batch norm runs in inference
    mode (`linear`, and the frozen layers of `freeze:K`).
    """
    meta = read_export_metadata(resolve_handle(handle))
    if not meta or "network" not in meta:
        raise ExportError(
            f"A random-init baseline needs a bigan_tf export (its bigan_tf.json "
            f"names the architecture); {handle} has none."
        )
    network = NetworkConfig.from_dict(meta["network"])
    training_config = meta.get("training_config", {})
    objective = Objective.from_dict(training_config.get("objective", {}))
    keras.utils.set_random_seed(seed)
    model = BiGAN.from_config_objects(network, objective, meta.get("weight_decay", 0.0), seed)
    if training_images is not None and len(training_images):
        if deploy_iters is None:
            deploy_iters = (
                training_config.get("evaluation", {}).get("deploy_iters") or DEFAULT_DEPLOY_ITERS
            )
        deploy_batch_norm_on_images(model, training_images, training_labels, deploy_iters, seed)
    return export_hub_module(
        model, network, output_dir, meta["output"]["name"], meta.get("weight_decay", 0.0)
    )
