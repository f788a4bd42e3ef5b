"""ktlab: a Hydra-configured PyTorch Lightning framework for knowledge tracing."""

__version__ = "0.1.0"
