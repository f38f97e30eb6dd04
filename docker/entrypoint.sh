#!/bin/sh
# Container start: bring the database schema to head, then run the command given
# (`zhaocuo serve` by default). The database is ZHAOCUO_DATABASE_URL.
#
# Several nodes on one PostgreSQL database may all migrate at start: the migration takes an
# advisory lock, so they upgrade one after the other. ZHAOCUO_MIGRATE_ON_START=0 leaves the
# upgrade to a release job (`docker run … zhaocuo migrate`) instead.
set -eu

# Without a command (as when run by hand: sh docker/entrypoint.sh), serve on HOST:PORT.
if [ "$#" -eq 0 ]; then
    set -- zhaocuo serve --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}"
fi

# One container on the embedded SQLite file has nobody else to run the scheduled jobs
# (reminders, escalations, webhooks, the nightly report): the server runs them itself, unless
# ZHAOCUO_SCHEDULER says otherwise. On PostgreSQL, run `zhaocuo scheduler` in its own container.
case "${ZHAOCUO_DATABASE_URL:-}" in
    sqlite:*)
        export ZHAOCUO_SCHEDULER="${ZHAOCUO_SCHEDULER:-embedded}"
        ;;
esac

case "${ZHAOCUO_MIGRATE_ON_START:-1}" in
    1 | true | yes)
        zhaocuo migrate
        ;;
    0 | false | no)
        echo "ZHAOCUO_MIGRATE_ON_START=${ZHAOCUO_MIGRATE_ON_START}: schema not migrated at start" >&2
        ;;
    *)
        echo "ZHAOCUO_MIGRATE_ON_START must be 1 or 0, not '${ZHAOCUO_MIGRATE_ON_START}'" >&2
        exit 64
        ;;
esac

# exec: the server becomes the container's main process and receives its SIGTERM.
exec "$@"
