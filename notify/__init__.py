"""Notifications, the pluggable SMS sender and phone verification codes (issues 4 and 6)."""
