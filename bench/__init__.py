"""On-demand benchmarks; each prints a table (see README, Benchmarks)."""
