"""Benchmarks: one command each, figures printed as tables (see README, Benchmarks)."""
