#!/bin/sh
# Writes nginx's real-IP settings (http level) to FILE from
# NGINX_REAL_IP_FROM: addresses/CIDRs of the load balancers or server-side
# renderers in front of nginx, separated by spaces or commas. Requests from
# them are counted (rate limits, login lockout via X-Real-IP) per the client
# in X-Forwarded-For — the right-most address not in the list
# (real_ip_recursive on); any other peer's X-Forwarded-For is ignored.
# Empty (the default): nginx uses the peer address, as before.
# Not TRUSTED_PROXIES, which is the backend's trust in nginx's X-Real-IP.
#
#   real-ip.sh FILE      (scripts/render-nginx.sh locally; in the image,
#                         /docker-entrypoint.d/15-catalog-real-ip.sh)
# POSIX sh: the nginx image is Alpine (busybox).
set -eu
out=${1:-/etc/nginx/conf.d/00-catalog-real-ip.conf}
list=$(printf '%s' "${NGINX_REAL_IP_FROM:-}" | tr ',' ' ')
{
  echo "# generated from NGINX_REAL_IP_FROM by nginx/real-ip.sh"
  n=0
  for a in $list; do
    case $a in
      *[!0-9A-Fa-f.:/]* | "" | /* | */*/*)
        echo "real-ip: NGINX_REAL_IP_FROM: '$a' is not an address or CIDR" >&2
        exit 1
        ;;
    esac
    echo "set_real_ip_from $a;"
    n=$((n + 1))
  done
  if [ "$n" -gt 0 ]; then
    echo "real_ip_header X-Forwarded-For;"
    echo "real_ip_recursive on;"
  fi
} >"$out.tmp"
mv "$out.tmp" "$out"
