#!/bin/sh
# docker-entrypoint.sh of the local node's redis:7 image (our own script), with the official image's
# contract: a first argument that is an option or a .conf file means redis-server; redis-server
# started as root drops to the redis user (uid 999) after taking ownership of the working directory
# (/data); protected mode is off by default, as the official image builds redis.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$1" = 'redis-server' ]; then
  shift
  if [ $# -gt 0 ] && [ "${1%.conf}" != "$1" ]; then
    conf="$1"
    shift
    set -- redis-server "$conf" --protected-mode no "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
  um="$(umask)"
  if [ "$um" = '0022' ]; then
    umask 0077
  fi
fi

exec "$@"
