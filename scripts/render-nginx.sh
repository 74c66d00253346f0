#!/usr/bin/env bash
# Renders the local nginx configuration into $NGINX_STATE (nginx.conf +
# conf.d/) from the same templates compose uses (nginx/templates, and
# nginx/templates-prod for NGINX_PROFILE=prod).
# Inputs (environment): NGINX_STATE, NGINX_PORT, BACKEND_PORTS (space-
# separated) or BACKEND_SERVERS, FRONTEND_ROOT; optional NGINX_WORKERS (2),
# API_RATE/AUTH_RATE/API_BURST/AUTH_BURST and FEED_CONN_PER_ADDR (high: all
# local traffic comes from 127.0.0.1), DIAGNOSTICS_ALLOW, NGINX_PROFILE (local|prod),
# NGINX_REAL_IP_FROM (nginx/real-ip.sh), ACME_ROOT (prod: the folder port 80
# serves /.well-known/acme-challenge/ from; default NGINX_STATE/acme).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
: "${NGINX_STATE:?}" "${FRONTEND_ROOT:?}"
export NGINX_STATE FRONTEND_ROOT
export NGINX_PORT=${NGINX_PORT:-8080}
export NGINX_WORKERS=${NGINX_WORKERS:-2}
export NGINX_LISTEN_HOST=${NGINX_LISTEN_HOST:-127.0.0.1}
export NGINX_CONF_DIR=$NGINX_STATE/conf.d
export API_RATE=${API_RATE:-100000r/s} AUTH_RATE=${AUTH_RATE:-100000r/s}
export API_BURST=${API_BURST:-100000} AUTH_BURST=${AUTH_BURST:-100000}
export FEED_CONN_PER_ADDR=${FEED_CONN_PER_ADDR:-65535}
export DIAGNOSTICS_ALLOW=${DIAGNOSTICS_ALLOW:-allow all;}
export ACCESS_LOG=${ACCESS_LOG:-$NGINX_STATE/access.log}
export HSTS_HEADER=${HSTS_HEADER:-# no HSTS over plain HTTP}
export ACME_ROOT=${ACME_ROOT:-$NGINX_STATE/acme}
NGINX_USER=$(id -un)
NGINX_GROUP=$(id -gn)
export NGINX_USER NGINX_GROUP
if [ -z "${BACKEND_SERVERS:-}" ]; then
  : "${BACKEND_PORTS:?}"
  BACKEND_SERVERS=""
  for p in $BACKEND_PORTS; do BACKEND_SERVERS+="server 127.0.0.1:$p max_fails=1 fail_timeout=2s; "; done
fi
export BACKEND_SERVERS
# shellcheck disable=SC2016 # envsubst's list of variable names, not expansions
vars='${NGINX_PORT} ${NGINX_LISTEN_HOST} ${BACKEND_SERVERS} ${FRONTEND_ROOT} ${NGINX_CONF_DIR} ${API_RATE} ${AUTH_RATE}
  ${API_BURST} ${AUTH_BURST} ${FEED_CONN_PER_ADDR} ${DIAGNOSTICS_ALLOW} ${ACCESS_LOG} ${HSTS_HEADER} ${SERVER_NAME} ${TLS_CERT} ${TLS_KEY} ${NGINX_TLS_PORT} ${ACME_ROOT}'
rm -rf "$NGINX_STATE/conf.d"
mkdir -p "$NGINX_STATE/conf.d" "$NGINX_STATE/tmp"
# shellcheck disable=SC2016
envsubst '${NGINX_STATE} ${NGINX_WORKERS} ${NGINX_USER} ${NGINX_GROUP}' <"$here/nginx/nginx.local.conf.template" >"$NGINX_STATE/nginx.conf"
# shellcheck disable=SC2094 # reads nginx/…/X.template, writes conf.d/X
render() { for t in "$1"/*.template; do envsubst "$vars" <"$t" >"$NGINX_STATE/conf.d/$(basename "$t" .template)"; done; }
render "$here/nginx/templates"
"$here/nginx/real-ip.sh" "$NGINX_STATE/conf.d/00-catalog-real-ip.conf"
if [ "${NGINX_PROFILE:-local}" = prod ]; then
  render "$here/nginx/templates-prod" # its default.conf replaces the plain-HTTP one
fi
