"""The REST API of deals, the pipeline figures, change events and stage mappings."""
