"""ktlab: a Hydra-configured PyTorch Lightning framework for knowledge tracing."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # The predictor pulls in torch and Lightning: import it on first use, not with the package.
    if name == "Predictor":
        from ktlab.inference import Predictor

        return Predictor
    raise AttributeError(f"module 'ktlab' has no attribute {name!r}")


__all__ = ["Predictor", "__version__"]
