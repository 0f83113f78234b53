"""Warehouse configuration: only SHOW WAREHOUSES has size, AUTO_SUSPEND, clusters and the resource
monitor (the client's ``show("WAREHOUSES")`` runs it, behind a seam tests can feed)."""

SHOW_KIND = "WAREHOUSES"
