#!/usr/bin/env bash
# Makes a self-signed certificate for local trials of the prod nginx:
#   scripts/make-cert.sh [DIR] [NAME]   → DIR/fullchain.pem, DIR/privkey.pem
# (DIR defaults to ./certs, NAME to localhost). Real deployments mount a
# CA-issued pair at the same paths.
set -euo pipefail
dir=${1:-certs}
name=${2:-localhost}
mkdir -p "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$name" \
  -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
chmod 600 "$dir/privkey.pem"
echo "make-cert: $dir/fullchain.pem and $dir/privkey.pem for $name"
