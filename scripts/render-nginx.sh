#!/usr/bin/env bash
# Renders the local nginx configuration into $NGINX_STATE (conf + conf.d/).
# Inputs (environment): NGINX_STATE, NGINX_PORT, BACKEND_PORTS (space-
# separated), FRONTEND_ROOT; optional NGINX_WORKERS (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
: "${NGINX_STATE:?}" "${NGINX_PORT:?}" "${BACKEND_PORTS:?}" "${FRONTEND_ROOT:?}"
export NGINX_STATE NGINX_PORT FRONTEND_ROOT
export NGINX_WORKERS=${NGINX_WORKERS:-2}
export NGINX_LISTEN_HOST=${NGINX_LISTEN_HOST:-127.0.0.1}
NGINX_USER=$(id -un)
NGINX_GROUP=$(id -gn)
export NGINX_USER NGINX_GROUP
servers=""
for p in $BACKEND_PORTS; do servers+="server 127.0.0.1:$p max_fails=1 fail_timeout=2s; "; done
export BACKEND_SERVERS=$servers
mkdir -p "$NGINX_STATE/conf.d" "$NGINX_STATE/tmp"
envsubst '${NGINX_STATE} ${NGINX_WORKERS} ${NGINX_USER} ${NGINX_GROUP}' <"$here/nginx/nginx.local.conf.template" >"$NGINX_STATE/nginx.conf"
envsubst '${NGINX_PORT} ${NGINX_LISTEN_HOST} ${BACKEND_SERVERS} ${FRONTEND_ROOT}' \
  <"$here/nginx/templates/default.conf.template" >"$NGINX_STATE/conf.d/default.conf"
