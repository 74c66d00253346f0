#!/usr/bin/env bash
# Backs up the production MongoDB: mongodump inside the mongo container,
# with the root credentials of that container's own environment (so the
# shell needs none of .env's values), into backup-YYYY-MM-DD.gz (or FILE).
# A failed mongodump leaves no file behind and exits non-zero.
#
#   scripts/backup.sh [FILE]
#   restore: scripts/backup.sh --restore FILE
#
# Docker through DOCKER / COMPOSE (scripts/ops-lib.sh).
set -euo pipefail
# shellcheck source=scripts/ops-lib.sh
. "$(dirname "$0")/ops-lib.sh"
# single quotes: expanded by the container's shell, from its environment
# shellcheck disable=SC2016
auth='-u "$MONGO_INITDB_ROOT_USERNAME" -p "$MONGO_INITDB_ROOT_PASSWORD" --authenticationDatabase admin'

if [ "${1:-}" = --restore ]; then
  file=${2:?usage: scripts/backup.sh --restore FILE}
  [ -s "$file" ] || { echo "backup: $file is missing or empty" >&2; exit 1; }
  compose exec -T mongo sh -c "exec mongorestore --archive --gzip $auth" <"$file" || {
    echo "backup: mongorestore failed (status $?)" >&2
    exit 1
  }
  echo "backup: restored $file"
  exit 0
fi

file=${1:-backup-$(date +%F).gz}
tmp=$file.partial
trap 'rm -f "$tmp"' EXIT
st=0
compose exec -T mongo sh -c "exec mongodump --archive --gzip $auth" >"$tmp" || st=$?
if [ "$st" != 0 ]; then
  echo "backup: mongodump failed (status $st); no backup written" >&2
  exit 1
fi
# a gzip archive starts with 1f 8b; anything else is not a dump
if [ "$(head -c 2 "$tmp" | od -An -tx1 | tr -d ' \n')" != 1f8b ]; then
  echo "backup: mongodump gave no gzip archive ($(wc -c <"$tmp") bytes); no backup written" >&2
  exit 1
fi
mv "$tmp" "$file"
echo "backup: $file ($(wc -c <"$file") bytes)"
