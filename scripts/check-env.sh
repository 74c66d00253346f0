#!/usr/bin/env bash
# Checks the production settings before `docker compose -f
# docker-compose.prod.yml up` and names every missing or weak value at once
# (compose itself stops at the first missing one, and v1 prints the whole
# environment with it).
#
#   scripts/check-env.sh [ENV_FILE]     (default: ./.env; the shell's
#                                        environment wins, as with compose)
# Exit 0: complete. Exit 1: the problems, one a line.
set -euo pipefail
# shellcheck source=scripts/ops-lib.sh
. "$(dirname "$0")/ops-lib.sh"
file=${1:-$ops_root/.env}
[ -f "$file" ] || { echo "check-env: $file does not exist: cp .env.example .env, then fill it in" >&2; exit 1; }

problems=()
weak_words='^(changeme|change-me|password|secret|admin|test|example|root|catalog)$'
# secret NAME MIN URLSAFE: required, at least MIN characters, not a placeholder;
# URLSAFE=1: only characters that need no escaping in a connection URL
secret() {
  local v
  v=$(dotenv_get "$1" "$file")
  if [ -z "$v" ]; then
    problems+=("$1 is missing (required; generate one: openssl rand -hex 32)")
  elif ((${#v} < $2)); then
    problems+=("$1 is too short (${#v} characters; at least $2: openssl rand -hex 32)")
  elif [[ ${v,,} =~ $weak_words ]]; then
    problems+=("$1 is a placeholder, not a secret")
  elif [ "$3" = 1 ] && ! [[ $v =~ ^[A-Za-z0-9._~-]+$ ]]; then
    problems+=("$1 has characters that break the connection URL it goes into (use hex: openssl rand -hex 32)")
  fi
}
secret JWT_SECRET 32 0
secret ADMIN_PASSWORD 12 0
secret MONGO_INITDB_ROOT_PASSWORD 16 0
secret MONGO_APP_PASSWORD 16 1
secret REDIS_PASSWORD 16 1
secret GRAFANA_ADMIN_PASSWORD 12 0
prev=$(dotenv_get JWT_SECRET_PREVIOUS "$file")
if [ -n "$prev" ] && ((${#prev} < 32)); then problems+=("JWT_SECRET_PREVIOUS is too short (at least 32 characters, or empty)"); fi
if [ -n "$prev" ] && [ "$prev" = "$(dotenv_get JWT_SECRET "$file")" ]; then problems+=("JWT_SECRET_PREVIOUS equals JWT_SECRET"); fi
user=$(dotenv_get MONGO_APP_USER "$file")
if [ -n "$user" ] && ! [[ $user =~ ^[A-Za-z0-9._~-]+$ ]]; then problems+=("MONGO_APP_USER has characters that break the connection URL"); fi
name=$(dotenv_get SERVER_NAME "$file")
if [ -z "$name" ]; then
  problems+=("SERVER_NAME is missing (the host name the site and its certificate are for)")
elif ! [[ $name =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || [ "$name" = localhost ]; then
  problems+=("SERVER_NAME '$name' is not a public host name")
fi
for cidr in $(dotenv_get NGINX_REAL_IP_FROM "$file" | tr ',' ' '); do
  [[ $cidr =~ ^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$ ]] || problems+=("NGINX_REAL_IP_FROM: '$cidr' is not an address or CIDR")
done

if [ ${#problems[@]} -gt 0 ]; then
  echo "check-env: $file: ${#problems[@]} problem(s):" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "check-env: $file: every required value is set"
