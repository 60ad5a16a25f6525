"""The REST API's shared parts: router, errors, token authentication, throttling and schema."""
