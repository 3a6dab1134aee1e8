#!/usr/bin/env bash
# Back up Triad's PostgreSQL database: deploy/backup.sh [DIRECTORY]
#
# Dumps DATABASE_URL with pg_dump in the custom format (compressed; pg_restore can restore
# it selectively) to DIRECTORY/triad-<database>-<UTC time>.dump (default ./backups), checks
# that pg_restore can read it back, and writes its SHA-256 beside it (<file>.sha256), which
# deploy/restore.sh verifies. The dump holds harmful text and reviewers' wellbeing answers,
# so the files are readable by their owner only. pg_dump reads one consistent snapshot, so
# the app can keep running while it works.
set -euo pipefail

die() { echo "backup: $*" >&2; exit 1; }

[[ $# -le 1 ]] || die "usage: deploy/backup.sh [DIRECTORY]   (the database is \$DATABASE_URL)"
[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set (postgres://user@host:5432/dbname)"
[[ "$DATABASE_URL" =~ ^postgres(ql)?:// ]] || die "DATABASE_URL must be a postgres:// URL; SQLite demo databases are a file to copy"
# shellcheck source=deploy/pg-url.sh
source "$(dirname "$0")/pg-url.sh"
for tool in pg_dump pg_restore sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not installed (Debian: apt-get install postgresql-client)"
done

directory="${1:-${BACKUP_DIR:-./backups}}"
umask 077
mkdir -p "$directory"
database="${DATABASE_URL##*/}"
database="${database%%\?*}"
file="$directory/triad-${database}-$(date -u +%Y%m%dT%H%M%SZ).dump"
[[ ! -e "$file" ]] || die "$file exists already"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT

started=$SECONDS
pg_dump --format=custom --no-owner --no-privileges --file="$partial" --dbname="$database_url" \
    || die "pg_dump failed; no backup was written"
# A dump pg_restore cannot list is no backup: check before it takes the real name.
pg_restore --list "$partial" >/dev/null || die "pg_restore cannot read the dump; no backup was written"
mv "$partial" "$file"
(cd "$(dirname "$file")" && sha256sum "$(basename "$file")" >"$(basename "$file").sha256")

size=$(stat -c %s "$file")
echo "Backup written: $file ($size bytes in $((SECONDS - started)) s)"
echo "Checksum:       $file.sha256 ($(cut -d' ' -f1 "$file.sha256"))"
echo "Restore with:   DATABASE_URL=postgres://.../new_database deploy/restore.sh $file"
