"""snowwatch: read-only Snowflake cost and security monitoring (the package every function imports)."""

__version__ = "0.1.0"
