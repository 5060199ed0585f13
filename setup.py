"""bigan_tf: adversarial feature learning (BiGAN) for TensorFlow 2 / Keras 3."""

from setuptools import find_packages, setup

setup(
    name="bigan_tf",
    version="0.1.0",
    description="BiGAN (Donahue et al., ICLR 2017) for TensorFlow 2 / Keras 3",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["bigan_tf", "bigan_tf.*", "trainers", "export"]),
    install_requires=[
        "tensorflow==2.21.*",
        "keras>=3.8",
        "tensorboard==2.21.*",
        "tensorflow-datasets==4.9.*",
        "importlib_resources",  # imported by tensorflow-datasets 4.9.10, declared there only for old Pythons
        "tensorflow-hub==0.16.1",
        "tf-keras==2.21.*",
        "absl-py",
        "numpy",
        "scikit-learn",
        "pillow",
        "h5py",  # the SSGAN-format dataset loader (also a Keras dependency)
        "matplotlib",  # plots: learning curves, the reproduction harness
    ],
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": [
        "bigan-train-mnist=trainers.train_mnist:run",
        "bigan-train-encoder=trainers.train_encoder:run",
        "bigan-train-ssgan=trainers.train_ssgan:run",
        "bigan-eval-ssgan=trainers.eval_ssgan:run",
        "bigan-sample=trainers.sample:run",
        "bigan-finetune=trainers.finetune:run",
        "bigan-export-hub=export.export_hub:run",
        "bigan-export-saved-model=export.export_saved_model:run",
    ]},
)
