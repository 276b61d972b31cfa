"""Freshness policy, verification stamps, data-quality rules and scores (issue 4)."""
