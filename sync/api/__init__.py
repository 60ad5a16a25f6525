"""The REST API of sync runs: their history, and starting one."""
