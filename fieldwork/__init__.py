"""Grid workers' visits, the mobile workbench, change requests and their review, workload (issue 4)."""
