#!/usr/bin/env bash
# The production stack on one machine (`make prod`): PostgreSQL (started when it is down), the database created
# when missing, keys and secret generated once (mode 0600), migrations, static files, the deployment check, then
# the worker, gunicorn with the production settings on loopback and nginx in front with TLS. Ctrl-C stops all.
#
# Settings (environment): DATABASE_URL (default postgres://postgres@127.0.0.1:5432/renfang), RENFANG_STATE (the
# folder for keys, certificate, logs; default var/prod), PORT (gunicorn, 8000), HTTPS_PORT (nginx, 8443),
# WORKERS (gunicorn processes, 2), SERVER_NAME (127.0.0.1). A server uses the systemd units and the nginx site of
# this folder instead (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/env.sh
PORT=${PORT:-8000}
HTTPS_PORT=${HTTPS_PORT:-8443}
say() { echo "[prod $(date +%T)] $*"; }

if [[ $DATABASE_URL == postgres* ]] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  say "PostgreSQL 未运行，正在启动 / starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
"$PY" - <<'PYEOF'
import os, dj_database_url, psycopg
cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
if cfg["ENGINE"].endswith("postgresql"):
    args = dict(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"] or None,
                password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with psycopg.connect(**args) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}" ENCODING \'UTF8\' TEMPLATE template0')
            print(f"[prod] 已创建数据库 / database created: {cfg['NAME']}")
PYEOF
say "迁移数据库 / migrate"; "$PY" manage.py migrate --noinput -v0
say "收集静态文件 / collectstatic"; "$PY" manage.py collectstatic --noinput -v0
say "部署检查 / check --deploy"; "$PY" manage.py check --deploy --fail-level WARNING

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$PY" manage.py worker >> "$STATE/worker.log" 2>&1 & PIDS+=($!)
say "后台任务已启动 / worker started (log: $STATE/worker.log)"
.venv/bin/gunicorn renfang.wsgi --bind "127.0.0.1:$PORT" --workers "${WORKERS:-2}" --timeout 120 \
  --forwarded-allow-ips 127.0.0.1 --access-logfile "$STATE/access.log" --error-logfile "$STATE/gunicorn.log" & PIDS+=($!)
if command -v nginx >/dev/null; then
  if [[ ! -s $STATE/tls.crt ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$SERVER_NAME" -keyout "$STATE/tls.key" \
      -out "$STATE/tls.crt" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
    say "已生成自签名证书（正式部署请换成机构证书）/ self-signed certificate generated"
  fi
  mkdir -p "$STATE/nginx-tmp"
  sed -e "s#@SERVER_NAME@#$SERVER_NAME localhost#; s#@LISTEN@#$HTTPS_PORT#; s#@CERT@#$STATE/tls.crt#" \
      -e "s#@KEY@#$STATE/tls.key#; s#@UPSTREAM@#127.0.0.1:$PORT#" deploy/nginx-site.conf > "$STATE/nginx-site.conf"
  sed -e "s#@STATE@#$STATE#g" deploy/nginx-local.conf > "$STATE/nginx.conf"
  nginx -t -q -c "$STATE/nginx.conf" -p "$STATE"
  nginx -c "$STATE/nginx.conf" -p "$STATE" & PIDS+=($!)
  say "Renfang（生产模式）/ production stack:  https://$SERVER_NAME:$HTTPS_PORT/"
else
  say "未安装 nginx：应用在 127.0.0.1:$PORT，需由 TLS 反向代理在前（apt install nginx-light）"
fi
say "首次部署请创建街道与管理员 / first run: deploy/manage.sh bootstrap --street-code 320507001 --street-name 元和街道"
wait -n "${PIDS[@]}"
