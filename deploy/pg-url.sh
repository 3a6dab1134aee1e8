# Sourced by deploy/backup.sh and deploy/restore.sh: sets database_url from DATABASE_URL.
#
# libpq would take the URL as it is, but a password in it shows in `ps` to every local user:
# hand it over in PGPASSWORD (readable by this user only) and keep it out of the command line.
split_password() {
    local pattern='^(postgres(ql)?://)([^:@/]*):([^@/]*)@(.*)$'
    if [[ "$DATABASE_URL" =~ $pattern ]]; then
        local encoded="${BASH_REMATCH[4]}"
        PGPASSWORD="$(printf '%b' "${encoded//%/\\x}")"
        export PGPASSWORD
        database_url="${BASH_REMATCH[1]}${BASH_REMATCH[3]}@${BASH_REMATCH[5]}"
    else
        database_url="$DATABASE_URL"
    fi
}
split_password
