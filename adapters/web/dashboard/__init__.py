"""The HR dashboard (``/dashboard``) and its JSON API (``/api``): login, branch overview, alerts,
claims, reports and imports, over the core's read queries and use cases."""
