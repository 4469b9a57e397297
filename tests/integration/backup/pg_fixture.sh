# A throwaway PostgreSQL 15 on 127.0.0.1 for backup tests: initdb and postgres run as the postgres
# user (it refuses root), in a temporary directory owned by it. Source it; it stops on exit.
PGBIN=/usr/lib/postgresql/15/bin
pg_start() {
  PGWORK=$(mktemp -d /tmp/sdb-pg.XXXXXX)
  chown postgres "$PGWORK"
  PGPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGWORK/data" -U postgres --auth=trust -E UTF8 >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGWORK/data" -l "$PGWORK/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$PGWORK -c fsync=off" start >/dev/null
  export PGHOST=127.0.0.1 PGPORT PGUSER=postgres
}
pg_stop() {
  [ -n "${PGWORK:-}" ] || return 0
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGWORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGWORK"
}
