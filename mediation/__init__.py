"""Dispute mediation records, agreements as PDF, follow-up visits (issue 6)."""
