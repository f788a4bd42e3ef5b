"""Evaluation: which answers are scored (a protocol), every metric, and the per-answer predictions."""

from ktlab.evaluation.evaluator import Evaluator
from ktlab.evaluation.metrics import binary_scores
from ktlab.evaluation.protocols import NextStepProtocol, Protocol

__all__ = ["Evaluator", "NextStepProtocol", "Protocol", "binary_scores"]
