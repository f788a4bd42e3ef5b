"""Interaction data: schema, sources, generators, encoding and the Lightning DataModule."""
