"""The paper's Table 1 protocol: one (objective, seed) run of `benchmarks.reproduce_mnist`.

    python -m trainers.train_mnist --config=configs/mnist_table1.py:objective=gan,seed=1
    python -m benchmarks.reproduce_mnist --root=$HOME/bigan_runs      # every objective and seed

`configs/mnist_bigan.py` with the evaluation the paper reports: trained on
all 60k training images, evaluated on the t10k test set, after the original's
1000-batch batch-norm deploy pass, every 25 epochs (a checkpoint each time),
XLA-compiled. `quick=true` is the test suite's size: 1+1 epochs of 1,024 images
with 64-unit MLPs and small evaluation sets.
"""

import dataclasses

from bigan_tf.config import EvaluationConfig, ExperimentConfig
from bigan_tf.config.files import parse_config_arg

from configs import mnist_bigan


def get_config(arg: str = "") -> ExperimentConfig:
    args = parse_config_arg(arg, objective="bigan", seed=0, quick=False)
    config = mnist_bigan.get_config(f"objective={args['objective']}")
    replace = dataclasses.replace
    config = replace(
        config,
        run=replace(
            config.run,
            exp_dir=f"exp/table1/{args['objective']}/seed{args['seed']}",
            seed=args["seed"],
            save_interval=25,
            jit_compile=True,
            verbose=2,
        ),
        evaluation=EvaluationConfig(deploy_iters=1000, num_sample_images=400),
        data=replace(config.data, use_test_set=True),
    )
    if args["quick"]:
        config = replace(
            config,
            run=replace(config.run, disp_interval=1, save_interval=1),
            network=replace(config.network, hidden_units=64),
            optimizer=replace(config.optimizer, epochs=1, decay_epochs=1),
            evaluation=EvaluationConfig(
                deploy_iters=5,
                num_val=500,
                num_train_reference=1000,
                num_generated=1000,
                cls_steps=20,
                num_sample_images=40,
            ),
            data=replace(config.data, max_train_images=1024),
        )
    return config
