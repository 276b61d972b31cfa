#!/usr/bin/env bash
# manage.py with the production environment of deploy/prod.sh (same state folder, database, keys):
# deploy/manage.sh bootstrap ..., deploy/manage.sh verify_audit, deploy/manage.sh shell.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/env.sh
exec "$PY" manage.py "$@"
