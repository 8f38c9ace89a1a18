#!/bin/sh
# Installs or uninstalls built rtty (`make install` / `make uninstall` call this).
#   PREFIX      /usr/local     binaries, man pages, data
#   SYSCONFDIR  /etc           rtty/, pam.d/, ssh/sshd_config.d/, logrotate.d/
#   DESTDIR     (empty)        staging root for packages
#   BUILD       .build/release where `swift build -c release` put the binaries
#   NO_SYSTEM_CHANGES=1        do not create groups, chgrp rtty-shell or edit /etc/shells
#                              (packages do that in their maintainer scripts); implied by DESTDIR
# Install never overwrites an existing config, ACL, PAM file or sshd snippet. Uninstall
# removes what install added (listed in DATADIR/installed-files) and keeps config, ACL
# and logs.
set -eu
cd "$(dirname "$0")/.."

PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
DESTDIR=${DESTDIR:-}
BUILD=${BUILD:-.build/release}
BINDIR=${BINDIR:-$PREFIX/bin}
SBINDIR=${SBINDIR:-$PREFIX/sbin}
MANDIR=${MANDIR:-$PREFIX/share/man}
DATADIR=${DATADIR:-$PREFIX/share/rtty}
SYSTEMDDIR=${SYSTEMDDIR:-$PREFIX/lib/systemd/system}
LIBDIR_SYSTEMD=${LIBDIR_SYSTEMD:-$PREFIX/lib}
SYSTEM_CHANGES=1
if [ -n "$DESTDIR" ] || [ "${NO_SYSTEM_CHANGES:-0}" = 1 ]; then SYSTEM_CHANGES=0; fi
MANIFEST="$DATADIR/installed-files"

say() { echo "rtty install: $*"; }

# put SOURCE DEST MODE: install one file and list it in the manifest.
put() {
    install -d "$DESTDIR$(dirname "$2")"
    install -m "$3" "$1" "$DESTDIR$2"
    echo "$2" >> "$DESTDIR$MANIFEST.new"
}

# keep SOURCE DEST MODE: install only if DEST does not exist (config the admin owns).
keep() {
    if [ -e "$DESTDIR$2" ]; then
        say "kept existing $2"
    else
        install -d "$DESTDIR$(dirname "$2")"
        install -m "$3" "$1" "$DESTDIR$2"
        say "installed $2"
    fi
}

do_install() {
    for program in rttyd rtty rttyctl rtty-shell; do
        [ -x "$BUILD/$program" ] || { echo "rtty install: $BUILD/$program is missing; run make (swift build -c release) first" >&2; exit 1; }
    done
    install -d "$DESTDIR$DATADIR"
    : > "$DESTDIR$MANIFEST.new"
    put "$BUILD/rttyd" "$SBINDIR/rttyd" 0755
    put "$BUILD/rttyctl" "$SBINDIR/rttyctl" 0755
    put "$BUILD/rtty" "$BINDIR/rtty" 0755
    put "$BUILD/rtty-shell" "$SBINDIR/rtty-shell" 2755
    for page in man/*.[1-8]; do
        section=${page##*.}
        put "$page" "$MANDIR/man$section/$(basename "$page")" 0644
    done
    put packaging/systemd/rttyd.service "$SYSTEMDDIR/rttyd.service" 0644
    put packaging/systemd/rtty.sysusers "$LIBDIR_SYSTEMD/sysusers.d/rtty.conf" 0644
    put packaging/systemd/rtty.tmpfiles "$LIBDIR_SYSTEMD/tmpfiles.d/rtty.conf" 0644
    # The snippet names rtty-shell by the path it is installed at.
    snippet=$(mktemp)
    sed "s|/usr/sbin/rtty-shell|$SBINDIR/rtty-shell|" packaging/sshd_config.d/rtty.conf > "$snippet"
    put "$snippet" "$DATADIR/sshd_config.d/rtty.conf" 0644
    put packaging/etc/rtty.conf "$DATADIR/rtty.conf.example" 0644
    put packaging/etc/access "$DATADIR/access.example" 0644
    put packaging/etc/triggers.conf "$DATADIR/triggers.conf" 0644
    keep packaging/etc/rtty.conf "$SYSCONFDIR/rtty/rtty.conf" 0644
    keep packaging/etc/access "$SYSCONFDIR/rtty/access" 0640
    keep pam/rtty "$SYSCONFDIR/pam.d/rtty" 0644
    keep "$snippet" "$SYSCONFDIR/ssh/sshd_config.d/rtty.conf" 0644
    rm -f "$snippet"
    keep packaging/etc/logrotate "$SYSCONFDIR/logrotate.d/rtty" 0644
    echo "$MANIFEST" >> "$DESTDIR$MANIFEST.new"
    mv "$DESTDIR$MANIFEST.new" "$DESTDIR$MANIFEST"
    if [ "$SYSTEM_CHANGES" = 1 ]; then
        system_setup "$SBINDIR/rtty-shell" "$SYSCONFDIR"
    fi
    say "done; see rtty-shell(8) for giving users ssh access, rttyd(8) to start the daemon"
}

# The system part (also what the Debian postinst does): groups, setgid shell, /etc/shells,
# ACL readable by the shell's group, log directory.
system_setup() {
    shell=$1 etc=$2
    for group in rtty rtty-admin rtty-users; do
        getent group "$group" >/dev/null || { groupadd --system "$group" 2>/dev/null || pw groupadd "$group"; say "created group $group"; }
    done
    chgrp rtty "$shell"
    chmod 2755 "$shell"
    if [ -f "$etc/rtty/access" ]; then chgrp rtty "$etc/rtty/access"; chmod 0640 "$etc/rtty/access"; fi
    grep -qx "$shell" /etc/shells 2>/dev/null || echo "$shell" >> /etc/shells
    install -d -m 0750 /var/log/rtty
}

do_uninstall() {
    if [ ! -f "$DESTDIR$MANIFEST" ]; then
        echo "rtty uninstall: $DESTDIR$MANIFEST not found: nothing installed with this PREFIX" >&2
        exit 1
    fi
    while read -r file; do
        rm -f "$DESTDIR$file"
    done < "$DESTDIR$MANIFEST"
    rmdir "$DESTDIR$DATADIR/sshd_config.d" "$DESTDIR$DATADIR" 2>/dev/null || true
    if [ "$SYSTEM_CHANGES" = 1 ] && [ -f /etc/shells ]; then
        grep -vx "$SBINDIR/rtty-shell" /etc/shells > /etc/shells.rtty-new || true
        cat /etc/shells.rtty-new > /etc/shells
        rm -f /etc/shells.rtty-new
    fi
    say "removed; kept $SYSCONFDIR/rtty (config, ACL), $SYSCONFDIR/pam.d/rtty, the sshd snippet and /var/log/rtty"
}

case "${1:-install}" in
    install) do_install ;;
    uninstall) do_uninstall ;;
    system-setup) system_setup "${2:?shell path}" "${3:-/etc}" ;;
    *) echo "usage: $0 install|uninstall" >&2; exit 2 ;;
esac
