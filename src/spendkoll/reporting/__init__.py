"""Summaries printed for operators."""
