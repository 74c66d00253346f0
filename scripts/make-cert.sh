#!/usr/bin/env bash
# Makes a self-signed certificate for trials of the prod nginx:
#   scripts/make-cert.sh [DIR] [NAME]   → DIR/fullchain.pem, DIR/privkey.pem
# DIR defaults to ./certs. NAME: when omitted, SERVER_NAME from the
# environment or ./.env (as compose reads it), else localhost. An empty
# NAME (given, or SERVER_NAME= in .env) is refused: the certificate would
# not be for the site. Real deployments mount a CA-issued pair at the same
# paths (README.md, "TLS renewal").
set -euo pipefail
# shellcheck source=scripts/ops-lib.sh
. "$(dirname "$0")/ops-lib.sh"
dir=${1:-certs}
if [ $# -ge 2 ]; then
  name=$2
  from="the NAME argument"
elif [ -n "${SERVER_NAME+x}" ] || grep -qE '^[[:space:]]*SERVER_NAME=' "$ops_root/.env" 2>/dev/null; then
  name=$(dotenv_get SERVER_NAME)
  from="SERVER_NAME (environment or $ops_root/.env)"
else
  name=localhost
  from="the default"
fi
if ! [[ $name =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
  echo "make-cert: no usable host name: '$name' from $from (usage: scripts/make-cert.sh [DIR] [NAME])" >&2
  exit 2
fi
mkdir -p "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$name" \
  -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
chmod 600 "$dir/privkey.pem"
echo "make-cert: $dir/fullchain.pem and $dir/privkey.pem for $name (self-signed)"
