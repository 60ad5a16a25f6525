"""Where data lives: PostgreSQL (embedded or a server), bulk writes, transactions, Redis."""
