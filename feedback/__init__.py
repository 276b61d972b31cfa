"""Residents' feedback by QR code: public pages that feed the review queue (issue 4)."""
