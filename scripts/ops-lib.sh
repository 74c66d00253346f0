# shellcheck shell=bash
# Helpers of the operator scripts (backup.sh, rolling-upgrade.sh,
# check-env.sh, make-cert.sh). Source it.
#
# Docker is called through variables, so a test can put a recording fake in
# their place: DOCKER (default docker) and COMPOSE (default "$DOCKER compose"
# when that works, else docker-compose); COMPOSE_FILE_PROD (default
# docker-compose.prod.yml). Only commands both compose v1 and v2 know are used.

ops_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCKER=${DOCKER:-docker}
COMPOSE_FILE_PROD=${COMPOSE_FILE_PROD:-$ops_root/docker-compose.prod.yml}
if [ -z "${COMPOSE:-}" ]; then
  if "$DOCKER" compose version >/dev/null 2>&1; then COMPOSE="$DOCKER compose"; else COMPOSE=docker-compose; fi
fi

# compose ARGS...: compose on the production file
compose() {
  # shellcheck disable=SC2086 # COMPOSE may be two words ("docker compose")
  $COMPOSE -f "$COMPOSE_FILE_PROD" "$@"
}

# dotenv_get NAME [FILE]: NAME's value as compose sees it — the shell's
# environment wins over the file (default ./.env); prints nothing when unset.
# Values are taken literally (optional surrounding quotes removed).
dotenv_get() {
  local name=$1 file=${2:-$ops_root/.env} line v
  if [ -n "${!name+x}" ]; then
    printf '%s' "${!name}"
    return 0
  fi
  [ -f "$file" ] || return 0
  line=$(grep -E "^[[:space:]]*(export[[:space:]]+)?$name=" "$file" | tail -n 1) || return 0
  v=${line#*=}
  v=${v%$'\r'}
  if [[ $v =~ ^\"(.*)\"$ ]] || [[ $v =~ ^\'(.*)\'$ ]]; then v=${BASH_REMATCH[1]}; fi
  printf '%s' "$v"
}
