# The production environment of a stack on one machine, shared by deploy/prod.sh and deploy/manage.sh (sourced,
# from the checkout's root): the state folder, the database URL, the secret and the keys (generated once, 0600).
PY=${PY:-.venv/bin/python}
STATE=$(mkdir -p "${RENFANG_STATE:-var/prod}" && cd "${RENFANG_STATE:-var/prod}" && pwd)
SERVER_NAME=${SERVER_NAME:-127.0.0.1}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/renfang}
umask 077
[[ -s $STATE/secret_key ]] || "$PY" -c "import secrets; print(secrets.token_urlsafe(50))" > "$STATE/secret_key"
[[ -s $STATE/keys.json ]] || "$PY" -c "import base64, json, os; k = lambda: base64.b64encode(os.urandom(32)).decode(); \
print(json.dumps({'current': 'k1', 'keys': {'k1': k()}, 'index_key': k()}))" > "$STATE/keys.json"
export RENFANG_PRODUCTION=1 DJANGO_SECRET_KEY_FILE=$STATE/secret_key RENFANG_KEY_FILE=$STATE/keys.json
export RENFANG_ALLOWED_HOSTS=${RENFANG_ALLOWED_HOSTS:-$SERVER_NAME,localhost}
export RENFANG_VAR_DIR=${RENFANG_VAR_DIR:-$STATE/var}
mkdir -p "$RENFANG_VAR_DIR"
