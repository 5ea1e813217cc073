#!/bin/sh
# The image's one entry point. The first argument picks what the container runs:
#
#   web            gunicorn serving the service named by ONSALE_SERVICE (default)
#   worker         a Celery worker for CELERY_QUEUES
#   beat           the Celery beat scheduler (run exactly one)
#   migrate        database migrations (the Kubernetes Job before each rollout);
#                  also uploads static files when they live on S3
#   manage ARGS    any Django management command
#   anything else  run as given (e.g. sh for debugging)
#
# web, worker and beat need what the settings require outside debug mode,
# from the deployment (k8s/ sets them): DJANGO_SECRET_KEY, the access-token
# key, ONSALE_PUBLIC_URL (the base of the links in emails), the database and
# Redis; without one the process stops at start naming it.
#
# With NEW_RELIC_LICENSE_KEY set, web, worker and beat start under
# `newrelic-admin run-program`, which instruments the process before Django
# loads; without it nothing New Relic runs.
set -eu

APP_DIR="${ONSALE_APP_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$APP_DIR"

# Writable scratch space (beat's schedule, SQLite in the demo): the container's
# root file system is read-only, /tmp is an emptyDir volume.
mkdir -p "${ONSALE_VAR_DIR:-/tmp/onsale}"

instrumented() {
    if [ -n "${NEW_RELIC_LICENSE_KEY:-}" ]; then
        # The image's agent settings (newrelic.ini: no key, no app name) unless
        # the deployment names another file; NEW_RELIC_ENVIRONMENT picks its
        # section.
        if [ -z "${NEW_RELIC_CONFIG_FILE:-}" ] && [ -f "$APP_DIR/newrelic.ini" ]; then
            export NEW_RELIC_CONFIG_FILE="$APP_DIR/newrelic.ini"
        fi
        exec newrelic-admin run-program "$@"
    fi
    exec "$@"
}

command="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$command" in
    web)
        instrumented gunicorn --config "$APP_DIR/gunicorn.conf.py" "$@"
        ;;
    worker)
        instrumented celery --app onsale worker \
            --loglevel "${LOG_LEVEL:-INFO}" \
            --concurrency "${CELERY_CONCURRENCY:-4}" \
            --queues "${CELERY_QUEUES:-default,waitingroom,seatselection,checkout,orders}" \
            --without-gossip --without-mingle \
            "$@"
        ;;
    beat)
        instrumented celery --app onsale beat \
            --loglevel "${LOG_LEVEL:-INFO}" \
            --schedule "${ONSALE_VAR_DIR:-/tmp/onsale}/celerybeat-schedule" \
            "$@"
        ;;
    migrate)
        python manage.py migrate --noinput "$@"
        # Static files were collected into the image at build time; on S3 they
        # have to be uploaded once per release, and the Job is the one place
        # that runs once per release.
        if [ -n "${AWS_STORAGE_BUCKET_NAME:-}" ]; then
            python manage.py collectstatic --noinput -v 0
        fi
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        exec "$command" "$@"
        ;;
esac
