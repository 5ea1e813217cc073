#!/bin/sh
# Render nginx/templates/*.template into OUTDIR/conf.d/ with the variables the
# templates list (and only those: nginx's own $vars are left alone), and copy
# nginx.conf beside it. Unset variables take the defaults below.
#
#   nginx/render.sh OUTDIR
#   nginx -p "$(realpath OUTDIR)/" -c nginx.conf -e stderr -g 'daemon off;'
#
# OUTDIR is nginx's prefix: its pid file, temp files and micro-cache go there.
set -eu

if [ "$#" -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
out="$1"

: "${ONSALE_UPSTREAM:=127.0.0.1:8000}"
: "${ONSALE_STREAM_UPSTREAM:=127.0.0.1:8001}"
: "${NGINX_LISTEN:=8080}"
: "${NGINX_REAL_IP_FROM:=10.0.0.0/8}"
: "${ONSALE_STATIC_ROOT:=/app/static}"
: "${ONSALE_MEDIA_ROOT:=/app/media}"
: "${NGINX_CACHE_DIR:=micro_cache}"
export ONSALE_UPSTREAM ONSALE_STREAM_UPSTREAM NGINX_LISTEN NGINX_REAL_IP_FROM ONSALE_STATIC_ROOT \
    ONSALE_MEDIA_ROOT NGINX_CACHE_DIR

mkdir -p "$out/conf.d"
for template in "$here"/templates/*.template; do
    name="$(basename "$template" .template)"
    # shellcheck disable=SC2016  # the list names variables; envsubst expands them
    envsubst '${ONSALE_UPSTREAM} ${ONSALE_STREAM_UPSTREAM} ${NGINX_LISTEN} ${NGINX_REAL_IP_FROM} ${ONSALE_STATIC_ROOT} ${ONSALE_MEDIA_ROOT} ${NGINX_CACHE_DIR}' \
        < "$template" > "$out/conf.d/$name"
done
# nginx.conf includes conf.d/ next to itself.
cp "$here/nginx.conf" "$out/nginx.conf"
echo "rendered $out/nginx.conf and $out/conf.d/" >&2
