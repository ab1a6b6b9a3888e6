#!/usr/bin/env bash
# Install or upgrade the bot as a systemd service on Ubuntu 22.04/24.04 or Debian 12, from a clone:
#
#   sudo deploy/install.sh [--prefix /opt/ict-bot] [--user ictbot] [--dry-run]
#
# Layout under the prefix (default /opt/ict-bot):
#   bot.py ict/ journal/ runtime/ trade/ data/ ...  the code, replaced on every run (root-owned, read-only to the bot)
#   venv/                                           the virtual environment, its packages updated on every run
#   settings.toml                                   copied once, never overwritten (root:ictbot, 660: the bot
#                                                   writes a dashboard risk change back into it)
#   secrets.toml                                    created once from secrets.example.toml, never overwritten (ictbot, 600)
#   var/                                            the only folder the service may write: journal.db, log.txt, backups/
# The unit goes to /etc/systemd/system/ict-bot.service (with ict-bot-backup.service and .timer) and is enabled,
# and so is the web dashboard's, ict-dashboard.service (on 127.0.0.1 as settings.toml ships: reach it by SSH tunnel).
# Running it again upgrades: code and packages are updated, settings, secrets and var/ are left alone, and each
# service is restarted only if it was running. --dry-run prints every step and changes nothing.
set -euo pipefail
umask 022

NAME=ict-bot
DASHBOARD=ict-dashboard
PREFIX=/opt/ict-bot
BOT_USER=ictbot
UNIT_DIR=/etc/systemd/system
PYTHON=python3
DRY_RUN=0
DO_PACKAGES=1
DO_USER=1
DO_SYSTEMD=1
DO_PIP=1
USER_GIVEN=0
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGES=(python3 python3-venv sqlite3)
CODE=(bot.py requirements.txt README.md secrets.example.toml ict journal runtime trade dashboard data examples deploy)

usage() {
    cat <<EOF
usage: sudo deploy/install.sh [options]
  --prefix DIR     install here (default /opt/ict-bot; an absolute path of letters, digits, . _ - /)
  --user NAME      the system user the bot runs as (default ictbot; created when missing)
  --dry-run        print every step, change nothing
  --no-packages    do not install OS packages (${PACKAGES[*]})
  --no-user        do not create a user or change owners (runs as --user, default: you)
  --no-systemd     write the units but do not call systemctl (no enable, no restart)
  --no-pip         create the virtual environment without pip and install no Python packages
  --unit-dir DIR   where the units go (default /etc/systemd/system)
  --python PATH    the Python 3.10+ that creates the virtual environment (default python3)
EOF
}

fail() {  # one line, exit 2: a problem the person running the script must fix
    printf 'error: %s\n' "$1" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || fail "--prefix needs a folder"; PREFIX="${2%/}"; shift 2 ;;
        --user) [ $# -ge 2 ] || fail "--user needs a name"; BOT_USER="$2"; USER_GIVEN=1; shift 2 ;;
        --unit-dir) [ $# -ge 2 ] || fail "--unit-dir needs a folder"; UNIT_DIR="${2%/}"; shift 2 ;;
        --python) [ $# -ge 2 ] || fail "--python needs a path"; PYTHON="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --no-packages) DO_PACKAGES=0; shift ;;
        --no-user) DO_USER=0; shift ;;
        --no-systemd) DO_SYSTEMD=0; shift ;;
        --no-pip) DO_PIP=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) fail "unknown option $1; see deploy/install.sh --help" ;;
    esac
done

if [ "$DO_USER" = 0 ] && [ "$USER_GIVEN" = 0 ]; then
    BOT_USER="$(id -un)"
fi
# the prefix and user are written into the unit files: keep them to characters that need no quoting there
[[ "$PREFIX" =~ ^/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$ ]] || fail "--prefix $PREFIX must be an absolute path of letters, digits, . _ - / (not /)"
[[ "$BOT_USER" =~ ^[a-z_][a-z0-9_-]*$ ]] || fail "--user $BOT_USER must be a lower-case user name"
[ "$PREFIX" != "$SOURCE" ] || fail "--prefix is this clone ($SOURCE); install into another folder"
if [ ! -f "$SOURCE/bot.py" ] || [ ! -f "$SOURCE/deploy/$NAME.service" ] || [ ! -f "$SOURCE/deploy/$DASHBOARD.service" ]; then
    fail "run deploy/install.sh from a clone of the bot"
fi
if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ] && { [ "$DO_PACKAGES" = 1 ] || [ "$DO_USER" = 1 ] || [ "$DO_SYSTEMD" = 1 ]; }; then
    fail "run it with sudo (or pass --dry-run to see the steps)"
fi

VENV="$PREFIX/venv"
STATE="$PREFIX/var"

step() {  # step DESCRIPTION COMMAND...: say it, then do it (dry run: only say it)
    local description="$1"
    shift
    if [ "$DRY_RUN" = 1 ]; then
        printf 'would: %s\n' "$description"
    else
        printf '==> %s\n' "$description"
        "$@"
    fi
}

note() {
    printf '    %s\n' "$1"
}

install_packages() {
    local missing=() package
    for package in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        note "OS packages present: ${PACKAGES[*]}"
        return
    fi
    command -v apt-get >/dev/null || fail "apt-get not found: install ${missing[*]} yourself and run again with --no-packages"
    step "apt-get update && apt-get install -y ${missing[*]}" apt_install "${missing[@]}"
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

check_python() {
    if ! command -v "$PYTHON" >/dev/null; then
        [ "$DRY_RUN" = 1 ] || fail "$PYTHON not found; install python3 (3.10 or newer)"
        return
    fi
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || fail "$("$PYTHON" --version 2>&1) is too old: the bot needs Python 3.10 to 3.13"
}

create_user() {
    if id -u "$BOT_USER" >/dev/null 2>&1; then
        note "user $BOT_USER exists"
        return
    fi
    step "create system user $BOT_USER (no login shell, home $STATE)" \
        useradd --system --user-group --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin "$BOT_USER"
}

copy_code() {  # into a staging folder first, then swap item by item, so a failed copy leaves the old code whole
    local stage="$PREFIX/.install-new" item
    rm -rf "$stage"
    mkdir -p "$stage"
    tar -C "$SOURCE" --exclude=__pycache__ --exclude='*.pyc' -cf - "${CODE[@]}" | tar -C "$stage" --no-same-owner -xf -
    for item in "${CODE[@]}"; do
        rm -rf "${PREFIX:?}/$item"
        mv "$stage/$item" "$PREFIX/$item"
    done
    rmdir "$stage"
}

make_venv() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c '' 2>/dev/null; then
        note "virtual environment $VENV exists"
        return
    fi
    local options=()
    [ "$DO_PIP" = 1 ] || options+=(--without-pip)
    # a venv whose Python is gone (e.g. after a distribution upgrade) is made again
    step "create virtual environment $VENV" "$PYTHON" -m venv --clear "${options[@]}" "$VENV"
}

first_settings() {  # a copy of the shipped settings with the journal and log in the state folder
    local new="$PREFIX/settings.toml.new"  # named settings.toml only once edited: a failed edit is not "kept" later
    install -m 660 "$SOURCE/settings.toml" "$new"
    "$PYTHON" "$SOURCE/deploy/state_paths.py" "$new" var/journal.db var/log.txt
    if [ "$DO_USER" = 1 ]; then
        chown "root:$BOT_USER" "$new"
    fi
    mv "$new" "$PREFIX/settings.toml"
}

first_secrets() {
    install -m 600 "$SOURCE/secrets.example.toml" "$PREFIX/secrets.toml"
}

own_state() {
    mkdir -p "$STATE"
    chmod 750 "$STATE"
    if [ "$DO_USER" = 1 ]; then
        chown "$BOT_USER:$BOT_USER" "$STATE"
    fi
}

own_secrets() {
    chmod 600 "$PREFIX/secrets.toml"
    if [ "$DO_USER" = 1 ]; then
        chown "$BOT_USER:$BOT_USER" "$PREFIX/secrets.toml"
    fi
}

write_units() {
    local unit
    mkdir -p "$UNIT_DIR"
    for unit in "$NAME.service" "$NAME-backup.service" "$NAME-backup.timer" "$DASHBOARD.service"; do
        sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@USER@|$BOT_USER|g" "$SOURCE/deploy/$unit" > "$UNIT_DIR/$unit.new"
        chmod 644 "$UNIT_DIR/$unit.new"
        mv "$UNIT_DIR/$unit.new" "$UNIT_DIR/$unit"
    done
}

main() {
    local was_running=0 dashboard_running=0
    printf 'installing %s from %s into %s (user %s)%s\n' "$NAME" "$SOURCE" "$PREFIX" "$BOT_USER" \
        "$([ "$DRY_RUN" = 1 ] && printf ', dry run: nothing is changed')"
    if [ "$DO_PACKAGES" = 1 ]; then install_packages; fi
    check_python
    if [ "$DO_USER" = 1 ]; then create_user; fi
    if [ "$DO_SYSTEMD" = 1 ] && systemctl is-active --quiet "$NAME" 2>/dev/null; then
        was_running=1
        note "$NAME is running: it is restarted at the end"
    fi
    if [ "$DO_SYSTEMD" = 1 ] && systemctl is-active --quiet "$DASHBOARD" 2>/dev/null; then
        dashboard_running=1
        note "$DASHBOARD is running: it is restarted at the end"
    fi

    step "create $PREFIX" mkdir -p "$PREFIX"
    step "copy the code (${CODE[*]}) into $PREFIX, replacing the previous copy" copy_code
    make_venv
    if [ "$DO_PIP" = 1 ]; then
        step "install or update the Python packages of requirements.txt in $VENV" \
            "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade -r "$PREFIX/requirements.txt"
    fi
    # the code folders are read-only to the service: compile now, as it cannot write __pycache__ itself
    step "compile the code to bytecode" "$VENV/bin/python" -m compileall -q "$PREFIX/ict" "$PREFIX/journal" \
        "$PREFIX/runtime" "$PREFIX/trade" "$PREFIX/dashboard"
    step "create the state folder $STATE (journal, log, backups; the only folder the service writes)" own_state

    if [ -e "$PREFIX/settings.toml" ]; then
        note "kept $PREFIX/settings.toml"
        step "let the bot write a dashboard risk change back into $PREFIX/settings.toml (group-writable)" \
            chmod g+w "$PREFIX/settings.toml"
    else
        step "copy settings.toml to $PREFIX/settings.toml with [bot] journal = \"var/journal.db\", log_file = \"var/log.txt\"" first_settings
    fi
    if [ -e "$PREFIX/secrets.toml" ]; then
        note "kept $PREFIX/secrets.toml"
    else
        step "create $PREFIX/secrets.toml from secrets.example.toml (empty keys)" first_secrets
    fi
    step "make $PREFIX/secrets.toml readable by $BOT_USER only (600)" own_secrets

    step "write $UNIT_DIR/$NAME.service, $NAME-backup.service, $NAME-backup.timer and $DASHBOARD.service for $PREFIX and $BOT_USER" \
        write_units
    if [ "$DO_SYSTEMD" = 1 ]; then
        step "systemctl daemon-reload" systemctl daemon-reload
        step "systemctl enable $NAME (starts at boot)" systemctl enable --quiet "$NAME"
        step "systemctl enable $DASHBOARD (the web dashboard on 127.0.0.1; starts at boot)" systemctl enable --quiet "$DASHBOARD"
        if [ "$was_running" = 1 ]; then
            step "systemctl restart $NAME (it was running)" systemctl restart "$NAME"
        fi
        if [ "$dashboard_running" = 1 ]; then
            step "systemctl restart $DASHBOARD (it was running)" systemctl restart "$DASHBOARD"
        fi
    fi

    printf '\n%s\n' "$([ "$DRY_RUN" = 1 ] && echo "dry run done: nothing was changed." || echo "installed.")"
    if [ "$was_running" = 0 ]; then
        cat <<EOF
Next:
  sudoedit $PREFIX/settings.toml     # [bot] mode (start with "paper"), [strategy], [risk]
  sudoedit $PREFIX/secrets.toml      # api_key and api_secret (not needed for paper)
  sudo systemctl start $NAME
Then: journalctl -u $NAME -f   (daily journal backups: sudo systemctl enable --now $NAME-backup.timer)
Web dashboard: sudo systemctl start $DASHBOARD, then from your computer: ssh -L 8080:127.0.0.1:8080 you@this-server
  and open http://127.0.0.1:8080 (README "Web dashboard")
EOF
    fi
}

main
