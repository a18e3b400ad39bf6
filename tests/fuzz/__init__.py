"""Hypothesis-driven fuzzing of the engine and the Telegram adapter."""
