"""Answering with a trained model: load a checkpoint once, then predict and trace states many times."""

from ktlab.inference.predictor import Predictor

__all__ = ["Predictor"]
