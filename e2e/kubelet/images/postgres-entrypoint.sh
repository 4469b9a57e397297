#!/usr/bin/env bash
# docker-entrypoint.sh of the local node's postgres:15 image (our own script). It honours the
# contract of the official image: POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB, PGDATA,
# POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD and their *_FILE forms; initdb on first start with
# listen_addresses='*' and a `host all all all <method>` line; /docker-entrypoint-initdb.d scripts;
# root dropping to the postgres user (uid 999); `postgres -c ...` arguments passed through; a first
# argument starting with `-` means postgres.
set -Eeo pipefail

file_env() {
  local var="$1" fileVar="${1}_FILE" def="${2:-}"
  if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
    printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
    exit 1
  fi
  local val="$def"
  if [ "${!var:-}" ]; then
    val="${!var}"
  elif [ "${!fileVar:-}" ]; then
    val="$(<"${!fileVar}")"
  fi
  export "$var"="$val"
  unset "$fileVar"
}

# Arguments are the container's ("postgres" and its options); the server's own name is dropped.
temp_server_start() {
  if [ "${1:-}" = 'postgres' ]; then shift; fi
  set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
  PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

temp_server_stop() {
  PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
}

run_psql() {
  PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

init_files() {
  local f
  for f; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then
          printf '%s: running %s\n' "$0" "$f"
          "$f"
        else
          printf '%s: sourcing %s\n' "$0" "$f"
          . "$f"
        fi
        ;;
      *.sql) printf '%s: running %s\n' "$0" "$f"; run_psql --dbname "$POSTGRES_DB" -f "$f"; echo ;;
      *.sql.gz) printf '%s: running %s\n' "$0" "$f"; gunzip -c "$f" | run_psql --dbname "$POSTGRES_DB"; echo ;;
      *) printf '%s: ignoring %s\n' "$0" "$f" ;;
    esac
  done
}

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

if [ "$1" = 'postgres' ]; then
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" || :
  mkdir -p /var/run/postgresql || :
  chmod 03775 /var/run/postgresql || :
  if [ "$(id -u)" = '0' ]; then
    find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
  fi

  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=}"

  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "$POSTGRES_PASSWORD" ] && [ 'trust' != "$POSTGRES_HOST_AUTH_METHOD" ]; then
      cat >&2 <<'EOE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.
EOE
      exit 1
    fi
    eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
    printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    auth="${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "${@:2}")}"
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
    export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
    temp_server_start "$@"
    if [ "$POSTGRES_DB" != 'postgres' ]; then
      run_psql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
    fi
    shopt -s nullglob
    init_files /docker-entrypoint-initdb.d/*
    shopt -u nullglob
    temp_server_stop
    unset PGPASSWORD
    echo 'PostgreSQL init process complete; ready for start up.'
  else
    echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
  fi
fi

exec "$@"
