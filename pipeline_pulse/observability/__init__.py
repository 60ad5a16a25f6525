"""Logs, request ids, metrics, errors and traces, for every process."""
