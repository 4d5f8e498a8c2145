#!/bin/sh
# tool-data.sh - sysvshm write and cat (round trips, offsets, the hex dump,
# input longer than the block) and sysvshm lock (the command's exit status,
# the lock state ls shows while it runs, busy and timed-out locks, readers
# sharing, a writer that died holding the lock).
srcdir=${srcdir:-.}
. "$srcdir/tests/tool-lib.sh"

# ---- write and cat ----------------------------------------------------------------
name data; d=$n
"$tool" create "$d" 64 || exit 99

run sh -c "printf 'hello' | '$tool' write '$d'"
[ $rc -eq 0 ] && ok "write" || not_ok "write (exit $rc)"
expect 0 "cat --length 5" "$tool" cat "$d" --length 5
[ "$(cat "$tmp/out")" = hello ] && ok "cat reads back what write wrote" ||
    not_ok "cat read: $(cat "$tmp/out")"
expect 0 "cat" "$tool" cat "$d"
[ "$(wc -c <"$tmp/out" | tr -d ' ')" = 64 ] && ok "cat copies the whole block" ||
    not_ok "cat copied $(wc -c <"$tmp/out") bytes"
expect 0 "cat -x" "$tool" cat -x "$d"
cat >"$tmp/want" <<'EOF'
00000000  68 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |hello...........|
00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
*
00000040
EOF
if cmp -s "$tmp/out" "$tmp/want"; then
    ok "cat -x prints a hexdump -C layout"
else
    not_ok "cat -x output differs"
    sed 's/^/#   /' "$tmp/out"
fi
expect 0 "cat -x --offset 3 --length 4" "$tool" cat -x --offset 3 --length 4 "$d"
[ "$(cat "$tmp/out")" = "00000003  6c 6f 00 00                                       |lo..|
00000007" ] && ok "hex dump offsets count from the block's start" ||
    not_ok "cat -x --offset: $(cat "$tmp/out")"

run sh -c "printf 'abcd' | '$tool' write --offset 60 '$d'"
[ $rc -eq 0 ] && ok "write --offset up to the end" || not_ok "write --offset 60 (exit $rc)"
run sh -c "printf 'ABCDE' | '$tool' write --offset=60 '$d'"
[ $rc -eq 1 ] && ok "write refuses input longer than the block" || not_ok "write too long (exit $rc)"
contains "$tmp/err" "longer than the 4 bytes" "write: says how much fits"
one_line_error "write too long"
expect 0 "cat -o 60" "$tool" cat -o 60 "$d"
[ "$(cat "$tmp/out")" = abcd ] && ok "nothing was written by the refused write" ||
    not_ok "block changed: $(cat "$tmp/out")"
run sh -c "head -c 65 /dev/zero | '$tool' write '$d'"
[ $rc -eq 1 ] && ok "write refuses 65 bytes into 64" || not_ok "write 65 bytes (exit $rc)"
expect 1 "write --offset past the end" "$tool" write --offset 65 "$d" </dev/null
one_line_error "write --offset past the end"
expect 1 "cat --offset past the end" "$tool" cat --offset 65 "$d"
expect 1 "cat --length past the end" "$tool" cat --offset 60 --length 5 "$d"
expect 0 "cat --offset at the end" "$tool" cat --offset 64 "$d"
[ -s "$tmp/out" ] && not_ok "cat at the end printed something" || ok "cat at the end prints nothing"
run sh -c "'$tool' write '$d' </dev/null"
[ $rc -eq 0 ] && ok "an empty write is fine" || not_ok "empty write (exit $rc)"

# Binary data, bigger than one pipe buffer, with suffixes.
name big; b=$n
"$tool" create "$b" 256k || exit 99
if [ -r /dev/urandom ]; then
    head -c 262144 /dev/urandom >"$tmp/rand"
else
    awk 'BEGIN { srand(); for (i = 0; i < 262144; i++) printf "%c", int(rand() * 256) }' >"$tmp/rand"
fi
run sh -c "'$tool' write '$b' <'$tmp/rand'"
[ $rc -eq 0 ] && ok "write 256k of binary data" || not_ok "write 256k (exit $rc)"
"$tool" cat "$b" >"$tmp/back"
cmp -s "$tmp/rand" "$tmp/back" && ok "cat returns the same bytes" || not_ok "round trip differs"
"$tool" cat --offset 1k --length 2k "$b" >"$tmp/part"
dd if="$tmp/rand" bs=1024 skip=1 count=2 2>/dev/null | cmp -s - "$tmp/part" &&
    ok "cat --offset 1k --length 2k" || not_ok "cat with k suffixes"

# A block without a lock is read and written all the same.
name nolock; nl=$n
"$tool" create "$nl" 16 --nolock || exit 99
run sh -c "printf xyz | '$tool' write '$nl'"
[ $rc -eq 0 ] && ok "write to a --nolock block" || not_ok "write --nolock (exit $rc)"
expect 0 "cat a --nolock block" "$tool" cat --length 3 "$nl"
[ "$(cat "$tmp/out")" = xyz ] && ok "its data" || not_ok "data $(cat "$tmp/out")"
expect 1 "lock of a --nolock block" "$tool" lock "$nl" true
contains "$tmp/err" "no lock" "the hint says it has no lock"

# ---- lock -- COMMAND ------------------------------------------------------------------
expect 0 "lock -- true" "$tool" lock "$d" -- true
expect 7 "lock exits with the command's status" "$tool" lock "$d" -- sh -c 'exit 7'
expect 3 "lock without --" "$tool" lock "$d" sh -c 'exit 3'
expect 143 "a command killed by SIGTERM: 128+15" "$tool" lock "$d" -- sh -c 'kill -TERM $$'
expect 127 "a command that does not exist" "$tool" lock "$d" -- "$tmp/no-such-command"
: >"$tmp/not-executable"
expect 126 "a command that cannot be run" "$tool" lock "$d" -- "$tmp/not-executable"
expect 0 "options after NAME" "$tool" lock "$d" --timeout 1000 --read -- true
expect 0 "a command's own options are its own" "$tool" lock "$d" sh -c 'exit 0' --read

# While a writer holds the lock.
"$tool" lock "$d" -- sh -c "echo > '$tmp/w'; exec sleep 5" &
wpid=$!
pids="$pids $wpid"
wait_for 5 test -f "$tmp/w"
expect 0 "ls while write-locked" "$tool" ls
r=$(row "$d")
[ "$(field 9 "$r")" = "write:$wpid" ] && ok "ls: LOCK write:PID of the holder" ||
    not_ok "ls: LOCK $(field 9 "$r"), want write:$wpid"
[ "$(field 7 "$r")" = 1 ] && ok "ls: one process attached" || not_ok "ls: NATTCH $(field 7 "$r")"
expect 0 "stat while write-locked" "$tool" stat "$d"
contains "$tmp/out" "write-locked by process $wpid" "stat: write-locked by PID"
if have_python; then
    "$tool" ls --json >"$tmp/j"
    json_check "$tmp/j" <<EOF
$d|b["lock"]["state"]|write
$d|b["lock"]["writer"]|$wpid
EOF
fi
expect 1 "lock --timeout 0 when busy" "$tool" lock --timeout 0 "$d" true
contains "$tmp/err" "busy (write-locked by process $wpid)" "busy: says who holds it"
one_line_error "busy lock"
expect 1 "lock --timeout 200 when busy" "$tool" lock -t 200 "$d" true
contains "$tmp/err" "timed out" "says it timed out"
expect 1 "lock --read when write-locked" "$tool" lock --read -t 100 "$d" true
expect 1 "write --timeout when busy" "$tool" write --timeout 100 "$d" </dev/null
expect 1 "cat --timeout when busy" "$tool" cat --timeout 100 "$d"
expect 0 "cat --no-lock when busy" "$tool" cat --no-lock --length 5 "$d"
kill "$wpid"
wait "$wpid" 2>/dev/null
expect 0 "the lock is free once the holder ends" "$tool" lock -t 0 "$d" true

# Readers share the lock.
"$tool" lock --read "$d" -- sh -c "echo > '$tmp/r1'; exec sleep 5" &
r1=$!
"$tool" lock --read "$d" -- sh -c "echo > '$tmp/r2'; exec sleep 5" &
r2=$!
pids="$pids $r1 $r2"
wait_for 5 test -f "$tmp/r1" -a -f "$tmp/r2"
expect 0 "ls while read-locked" "$tool" ls
[ "$(field 9 "$(row "$d")")" = read:2 ] && ok "ls: LOCK read:2" ||
    not_ok "ls: LOCK $(field 9 "$(row "$d")")"
expect 0 "a third reader gets in" "$tool" lock --read -t 0 "$d" true
expect 0 "cat takes a reader lock" "$tool" cat --timeout 0 --length 1 "$d"
expect 1 "a writer does not" "$tool" lock -t 0 "$d" true
kill "$r1" "$r2"
wait "$r1" "$r2" 2>/dev/null

# A writer that dies holding the lock: the kernel frees it, the next locker
# is told.  (sysvshm lock itself is killed; its command goes on alone.)
expect 137 "the lock holder is killed" "$tool" lock "$d" -- sh -c 'kill -KILL $PPID'
expect 0 "ls after the holder died" "$tool" ls
case $(field 9 "$(row "$d")") in
"free(died:"*) ok "ls: LOCK free(died:PID)" ;;
*) not_ok "ls: LOCK $(field 9 "$(row "$d")")" ;;
esac
expect 0 "the next writer gets the lock" "$tool" lock -t 1000 "$d" -- sh -c 'echo "$SYSVSHM_LOCK_RECOVERED"'
[ "$(cat "$tmp/out")" = 1 ] && ok "its command sees SYSVSHM_LOCK_RECOVERED=1" ||
    not_ok "SYSVSHM_LOCK_RECOVERED=$(cat "$tmp/out")"
contains "$tmp/err" "died holding the lock" "a warning says a writer died"
expect 0 "ls" "$tool" ls
[ "$(field 9 "$(row "$d")")" = free ] && ok "unlocking clears the mark" ||
    not_ok "ls: LOCK $(field 9 "$(row "$d")")"

finish
