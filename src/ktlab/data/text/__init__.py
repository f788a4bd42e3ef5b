"""Question-text data: answer logs, the generated question bank, simulated students, prompts, tokenizers.

See ``docs/text_students.md``.
"""
