"""One Powertools Router per domain. Paths come from the route table (snowwatch.routes.path_of)."""
