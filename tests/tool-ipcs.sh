#!/bin/sh
# tool-ipcs.sh - the listing fallback for systems without /proc/sysvipc:
# `sysvshm ls' forced to parse `ipcs -m' (SYSVSHM_LIST_BACKEND=ipcs) must
# show what it shows from /proc.  Besides the real Linux ipcs, a stand-in
# (SYSVSHM_IPCS) prints the same segments in the Solaris/AIX/HP-UX layout
# (hex keys) and the BSD layout (decimal keys), built from /proc.
srcdir=${srcdir:-.}
. "$srcdir/tests/tool-lib.sh"

if [ ! -r /proc/sysvipc/shm ]; then
    echo "# no /proc/sysvipc/shm: the ipcs listing is the default here; nothing to compare"
    exit 77
fi

name a; a=$n
name b; b=$n
name held; h=$n
"$tool" create "$a" 4k || exit 99
"$tool" create "$b" 100 --nolock -m 0660 || exit 99
"$tool" create "$h" 1k || exit 99
# One block destroyed while attached (key IPC_PRIVATE, "dest" in ipcs).
"$tool" lock "$h" -- sh -c "echo > '$tmp/started'; exec sleep 5" &
lockpid=$!
pids="$pids $lockpid"
wait_for 5 test -f "$tmp/started"
hid=$("$tool" ls | awk -v n="$h" '$1 == n { print $3 }')
"$tool" rm --force "$h"

# Our rows (and the destroyed block's), blanks squeezed: everything in them
# comes from before our own attach, so two listings agree -- but for NATTCH
# (field 7), which any other process looking at the segments at that moment
# (a test running beside this one under make -j) raises for a while.
ours() {
    "$@" ls -a >"$tmp/ls" 2>"$tmp/err" || return 1
    awk -v a="$a" -v b="$b" -v id="$hid" '$1 == a || $1 == b || $3 == id { $7 = "-"; print }' "$tmp/ls" |
        tr -s ' ' | sort
}

ours env SYSVSHM_LIST_BACKEND=proc "$tool" >"$tmp/proc" ||
    not_ok "ls from /proc failed"
[ "$(grep -c . "$tmp/proc")" = 3 ] && ok "ls from /proc shows our three segments" ||
    not_ok "ls from /proc: $(cat "$tmp/proc")"
grep ' removed ' "$tmp/proc" >/dev/null && ok "one of them removed" || not_ok "no removed row"

compare() {
    desc=$1
    shift
    if ours env SYSVSHM_LIST_BACKEND=ipcs "$@" "$tool" >"$tmp/ipcs" &&
        cmp -s "$tmp/proc" "$tmp/ipcs"; then
        ok "$desc"
    else
        not_ok "$desc: the listings differ"
        diff "$tmp/proc" "$tmp/ipcs" | sed 's/^/#   /'
    fi
}

if command -v ipcs >/dev/null 2>&1; then
    compare "ls from the system's ipcs -m (Linux layout)"
else
    echo "# no ipcs here: only the stand-in layouts"
fi

# The stand-in: prints /proc/sysvipc/shm in another system's layout.
cat >"$tmp/ipcs-standin" <<'EOF'
#!/bin/sh
# Usage: ipcs -m   (layout from $FAKE_IPCS_LAYOUT: solaris, bsd, linux)
[ "$1" = -m ] || exit 1
case $FAKE_IPCS_LAYOUT in
solaris)
    echo "IPC status from <running system> as of Mon Jan  5 10:00:00 UTC 2026"
    echo "T         ID      KEY        MODE        OWNER    GROUP"
    echo "Shared Memory:"
    awk 'NR > 1 { printf "m %10d   0x%08x --rw-------     root     root\n", $2, ($1 < 0 ? $1 + 4294967296 : $1) }' /proc/sysvipc/shm
    ;;
bsd)
    echo "Shared Memory:"
    echo "T           ID          KEY MODE        OWNER    GROUP"
    awk 'NR > 1 { printf "m %12d %12d --rw-------     root    wheel\n", $2, $1 }' /proc/sysvipc/shm
    ;;
linux)
    echo
    echo "------ Shared Memory Segments --------"
    echo "key        shmid      owner      perms      bytes      nattch     status"
    awk 'NR > 1 { printf "0x%08x %-10d root       %-10s %-10d %-10d\n", ($1 < 0 ? $1 + 4294967296 : $1), $2, $3, $4, $7 }' /proc/sysvipc/shm
    echo
    ;;
esac
EOF
chmod +x "$tmp/ipcs-standin"
for layout in solaris bsd linux; do
    compare "ls from ipcs -m in the $layout layout" SYSVSHM_IPCS="$tmp/ipcs-standin" FAKE_IPCS_LAYOUT=$layout
done
expect 0 "ls --json from ipcs" env SYSVSHM_LIST_BACKEND=ipcs SYSVSHM_IPCS="$tmp/ipcs-standin" FAKE_IPCS_LAYOUT=bsd "$tool" ls --json
contains "$tmp/out" "\"name\": \"$a\"" "ls --json from ipcs names the block"

# Failures of the fallback are one-line errors, exit 1.
expect 1 "an ipcs that cannot be run" env SYSVSHM_LIST_BACKEND=ipcs SYSVSHM_IPCS="$tmp/no-such-ipcs" "$tool" ls
contains "$tmp/err" "no-such-ipcs" "the error names the program"
one_line_error "an ipcs that cannot be run"
printf '#!/bin/sh\necho "no columns here"\n' >"$tmp/ipcs-garbage"
chmod +x "$tmp/ipcs-garbage"
expect 1 "ipcs output without a header" env SYSVSHM_LIST_BACKEND=ipcs SYSVSHM_IPCS="$tmp/ipcs-garbage" "$tool" ls
one_line_error "ipcs output without a header"
printf '#!/bin/sh\nexit 3\n' >"$tmp/ipcs-fails"
chmod +x "$tmp/ipcs-fails"
expect 1 "ipcs that fails" env SYSVSHM_LIST_BACKEND=ipcs SYSVSHM_IPCS="$tmp/ipcs-fails" "$tool" ls
one_line_error "ipcs that fails"
expect 1 "an unknown backend" env SYSVSHM_LIST_BACKEND=bogus "$tool" ls
one_line_error "an unknown backend"

kill "$lockpid"
wait "$lockpid" 2>/dev/null
finish
