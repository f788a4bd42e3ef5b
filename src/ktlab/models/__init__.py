"""Sequence models: plain ``nn.Module`` components and their Lightning wrappers."""
