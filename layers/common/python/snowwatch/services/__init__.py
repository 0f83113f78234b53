"""The logic: plain functions over pydantic models, called by thin handlers."""
