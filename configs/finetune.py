"""A classifier on an exported encoder (the paper's transfer protocols), tested on t10k.

    python -m trainers.finetune --config.transfer.hub_module=exports/mnist_encoder
    python -m trainers.finetune --config=configs/finetune.py:mode=finetune,labels_per_class=100 \
        --config.transfer.hub_module=exports/mnist_encoder
    python -m trainers.finetune --config=configs/finetune.py:init=random ...   # the baseline

Arguments: `mode` (linear, finetune or freeze:K), `labels_per_class` (0: every
label), `init` (pretrained or random). MNIST by default, its test split scored;
Adam 1e-3 for 2,000 steps of 100 images, a checkpoint every 250. The module is
always the user's: set `transfer.hub_module` (or `--hub_module`).
"""

from bigan_tf.config import DataConfig, RunConfig, TransferConfig, TransferExperimentConfig
from bigan_tf.config.files import parse_config_arg


def get_config(arg: str = "") -> TransferExperimentConfig:
    args = parse_config_arg(arg, mode="linear", labels_per_class=0, init="pretrained")
    return TransferExperimentConfig(
        # exp_dir "": the trainer names the folder after the module and these settings.
        run=RunConfig(exp_dir="", batch_size=100, seed=0),
        transfer=TransferConfig(
            mode=args["mode"], init=args["init"], labels_per_class=args["labels_per_class"] or None
        ),
        data=DataConfig(source="mnist", use_test_set=True),
    )
