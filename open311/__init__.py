"""Open311 GeoReport v2 over the cases app (issue 6)."""
