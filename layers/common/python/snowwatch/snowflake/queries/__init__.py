"""SQL text per ACCOUNT_USAGE source view (real column names), one module per view."""
