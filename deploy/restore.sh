#!/usr/bin/env bash
# Restore a Triad backup: deploy/restore.sh [--force] BACKUP_FILE
#
# Restores a dump written by deploy/backup.sh into DATABASE_URL, which must be an empty
# database (createdb it first): restoring over live data would mix two states of it. --force
# drops what the target holds first, table by table (pg_restore --clean). The checksum file
# beside the dump is verified before anything is touched, the restore runs in one transaction
# (all or nothing), and afterwards `manage.py migrate --check` confirms the schema matches
# this code and the main tables' row counts are printed.
set -euo pipefail

die() { echo "restore: $*" >&2; exit 1; }
usage="usage: deploy/restore.sh [--force] BACKUP_FILE   (the target database is \$DATABASE_URL)"

force=0
file=""
for argument in "$@"; do
    case "$argument" in
        --force) force=1 ;;
        -h|--help) echo "$usage"; exit 0 ;;
        -*) die "unknown option $argument; $usage" ;;
        *) [[ -z "$file" ]] || die "$usage"; file="$argument" ;;
    esac
done
[[ -n "$file" ]] || die "$usage"
[[ -f "$file" ]] || die "no such backup file: $file"
[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set: name the (empty) database to restore into"
[[ "$DATABASE_URL" =~ ^postgres(ql)?:// ]] || die "DATABASE_URL must be a postgres:// URL"
# shellcheck source=deploy/pg-url.sh
source "$(dirname "$0")/pg-url.sh"
for tool in pg_restore psql sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not installed (Debian: apt-get install postgresql-client)"
done

if [[ -f "$file.sha256" ]]; then
    (cd "$(dirname "$file")" && sha256sum --check --status "$(basename "$file").sha256") \
        || die "$file does not match its checksum $file.sha256: the backup is damaged; nothing was restored"
    echo "Checksum OK: $file"
else
    echo "restore: warning: no $file.sha256 beside the backup, so its integrity is not verified" >&2
fi

psql_value() { psql --dbname="$database_url" --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 -c "$1"; }
relations=$(psql_value "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND c.relkind IN ('r', 'p', 'v', 'm', 'S')") || die "cannot connect to the target database"
clean=()
if [[ "$relations" -gt 0 ]]; then
    [[ $force -eq 1 ]] || die "the target database is not empty ($relations tables, views or sequences); \
restore into a new database (createdb) or pass --force to replace what it holds"
    echo "restore: --force: the backup's tables, sequences and functions are dropped and replaced; anything else the target holds is left" >&2
    clean=(--clean --if-exists)
fi

started=$SECONDS
pg_restore --dbname="$database_url" --no-owner --no-privileges --single-transaction --exit-on-error \
    "${clean[@]}" "$file" || die "pg_restore failed; the transaction was rolled back and the target is unchanged"
echo "Restored $file in $((SECONDS - started)) s"

# The schema must be the one this code expects: a dump from another version needs `migrate`.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
if [[ -x "$python" || -n "${PYTHON:-}" ]]; then
    (cd "$root" && "$python" manage.py migrate --check >/dev/null) \
        || die "the restored schema does not match this code's migrations: run manage.py migrate (manage.py showmigrations lists what is missing)"
    echo "Migrations: the restored schema matches this code"
else
    echo "restore: warning: no Python at $python (set PYTHON) so migrations were not checked" >&2
fi

echo "Rows restored:"
for table in review_transcript review_study review_review wellbeing_response review_auditevent auth_user; do
    echo "  $table: $(psql_value "SELECT count(*) FROM $table" 2>/dev/null || echo 'missing')"
done
