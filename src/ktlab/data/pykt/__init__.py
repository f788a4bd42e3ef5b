"""pyKT's data protocol (Liu et al., 2022, "pyKT: A Python Library to Benchmark Deep Learning based
Knowledge Tracing Models", NeurIPS Datasets and Benchmarks), written from its description and checked
against files pyKT produced: its 6-line ``data.txt``, its learner split and folds, its sequences, test
windows and question-level sequences, and its processed files (``train_valid.csv``, ``test.csv``,
``keyid2idx.json``).
"""
