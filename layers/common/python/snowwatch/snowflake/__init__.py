"""The read-only Snowflake client, its statement guard and the SQL text per source view."""
