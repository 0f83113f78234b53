"""pydantic contracts: API input/output and domain records."""
