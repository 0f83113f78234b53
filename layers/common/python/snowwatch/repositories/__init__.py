"""All SQL against Postgres, one module per aggregate. Every connector-scoped query filters on connector_id."""
