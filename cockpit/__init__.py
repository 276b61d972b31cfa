"""The cockpit: one board per place, kept rollups, map, wall screen, panel registry (issue 5)."""
