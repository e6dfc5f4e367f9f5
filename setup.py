"""Packaging for hpreg."""

import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
    LONG_DESCRIPTION = f.read()

with open(os.path.join(HERE, "requirements.dev.txt"), encoding="utf-8") as f:
    DEV_REQUIREMENTS = [
        line.strip() for line in f if line.strip() and not line.startswith("#")
    ]

EXTRAS = {
    "dev": DEV_REQUIREMENTS,
    "optuna": ["optuna>=3"],
    "dask": ["dask[distributed]>=2022"],
    "slurm": ["submitit>=1.4"],
    "plot": ["matplotlib>=3"],
}
EXTRAS["all"] = sorted(
    {req for key in ("optuna", "dask", "slurm", "plot") for req in EXTRAS[key]}
)

setup(
    name="hpreg",
    version="0.1.0",
    description="A distributed-centralized hyperparameter registry: declare anywhere, manage, sweep and run as a whole.",
    long_description=LONG_DESCRIPTION,
    long_description_content_type="text/markdown",
    packages=find_packages(include=["hpreg", "hpreg.*"]),
    python_requires=">=3.9",
    install_requires=["PyYAML>=5.1", "prettytable>=2", "tqdm>=4.62"],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["hpreg=hpreg.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
