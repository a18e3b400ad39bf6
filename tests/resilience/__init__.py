"""Resilience: Telegram faults, kill -9 loops, database connection loss, several workers."""
