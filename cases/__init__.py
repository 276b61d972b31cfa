"""Cases: intake, workflow, deadlines, escalation, boards (issue 6)."""
