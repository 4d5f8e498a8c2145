#!/bin/sh
# test-demo.sh - the demo programs do what the README says.  Run by
# `make check' from the top build directory (plain test-driver: exit 0 pass,
# 77 skip, 99 hard error, anything else fail).  Takes a few seconds.
#
# Every block name starts with $name, unique to this run, and the exit trap
# stops every program still running (process1 removes its block on SIGTERM).

bin=${DEMO_BINDIR:-./demo}
p1=$bin/process1
p2=$bin/process2
name=svsdemo-$$
tmp=${TMPDIR:-/tmp}/svsdemo-test.$$
pids=
failed=0

for p in "$p1" "$p2"; do
    if [ ! -x "$p" ]; then
        echo "test-demo.sh: $p not built" >&2
        exit 99
    fi
done
mkdir "$tmp" || exit 99

cleanup() {
    for p in $pids; do
        kill -TERM "$p" 2>/dev/null
    done
    wait
    # Only a program killed by `finish' can leave a block: remove it with
    # the sysvshm tool if it was built, else name it.
    for n in "$name" "$name-b" "$name-f" "$name-l" "$name-i" "$name-x" "$name-k" "$name-p"; do
        gone "$n" && continue
        if [ -x ./tools/sysvshm ]; then
            # --force: a creator's pid may have been reused by now.
            ./tools/sysvshm rm --force "$n"
        else
            echo "test-demo.sh: block $n left behind: remove it with ipcrm" >&2
        fi
    done
    rm -rf "$tmp"
}
trap cleanup 0
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*"
    failed=1
}

pass() {
    echo "ok: $*"
}

nap() {
    sleep 0.05 2>/dev/null || sleep 1
}

# wait_line FILE: until FILE has a line (5 s at most).  The caller empties
# FILE before it starts the program: the program's own `>FILE' happens after
# the fork, possibly after we first look.
wait_line() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do
        nap
        i=$((i + 1))
    done
    [ -s "$1" ]
}

# finish PID: wait for PID to exit (5 s at most, then SIGKILL) and give its
# exit status; 124 if it had to be killed.
finish() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
        nap
        i=$((i + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1" 2>/dev/null
        wait "$1"
        return 124
    fi
    wait "$1"
}

# repeat N LINE: LINE N times.
repeat() {
    i=0
    while [ $i -lt "$1" ]; do
        echo "$2"
        i=$((i + 1))
    done
}

# gone NAME: no block NAME is left (process2 cannot attach it).
gone() {
    "$p2" --name "$1" --count 1 >/dev/null 2>"$tmp/gone.err"
    st=$?
    if [ $st -eq 1 ] && grep 'does not exist' "$tmp/gone.err" >/dev/null; then
        return 0
    fi
    [ $st -eq 0 ] && echo "  block $1 is still there"
    return 1
}

lines() {
    wc -l <"$1" | tr -d ' '
}

# ---- usage -----------------------------------------------------------------
"$p1" --help >"$tmp/out" 2>&1 && grep '^Usage: process1' "$tmp/out" >/dev/null \
    && pass "process1 --help" || fail "process1 --help"
"$p2" --version >"$tmp/out" 2>&1 && grep '^process2 (libsysvshm) [0-9]' "$tmp/out" >/dev/null \
    && pass "process2 --version" || fail "process2 --version"
for args in "--bogus" "--count" "--count 0" "--count x" "--interval -5" "extra"; do
    # shellcheck disable=SC2086
    "$p1" $args >"$tmp/out" 2>"$tmp/err"
    st=$?
    if [ $st -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(lines "$tmp/err")" = 1 ]; then
        pass "process1 $args: exit 2, one line"
    else
        fail "process1 $args: exit $st (want 2 and one line on stderr):"
        cat "$tmp/err"
    fi
done

# ---- process2 alone ----------------------------------------------------------
"$p2" --name "$name" >"$tmp/out" 2>"$tmp/err"
st=$?
want="process2: block \"$name\" does not exist; start process1 first"
if [ $st -eq 1 ] && [ ! -s "$tmp/out" ] && [ "$(cat "$tmp/err")" = "$want" ]; then
    pass "process2 alone: exit 1, one line"
else
    fail "process2 alone: exit $st, stderr:"
    cat "$tmp/err"
fi

# ---- process1 alone ----------------------------------------------------------
"$p1" --name "$name" --count 3 --interval 50 >"$tmp/out" 2>"$tmp/err"
st=$?
repeat 3 "1 0 0 0" >"$tmp/want"
if [ $st -eq 0 ] && cmp -s "$tmp/out" "$tmp/want" && [ ! -s "$tmp/err" ]; then
    pass "process1 alone prints 1 0 0 0"
else
    fail "process1 alone: exit $st, output:"
    cat "$tmp/out" "$tmp/err"
fi
gone "$name" && pass "process1 --count left no block" || fail "process1 --count left its block"

# ---- both (bytes, then doubles) ------------------------------------------------
# together NAME P1FIRST BOTH [FLAG]: process1, then process2 once process1
# has printed; process1's first line is P1FIRST, every later line of
# process2 and the last line of process1 are BOTH.
together() {
    n=$1 first=$2 both=$3
    shift 3
    : >"$tmp/o1"
    "$p1" --name "$n" --count 20 --interval 50 "$@" >"$tmp/o1" 2>"$tmp/e1" &
    pid=$!
    pids="$pid"
    wait_line "$tmp/o1" || fail "process1 $*: printed nothing"
    "$p2" --name "$n" --count 3 --interval 50 "$@" >"$tmp/o2" 2>"$tmp/e2"
    st2=$?
    finish "$pid"
    st1=$?
    pids=
    repeat 3 "$both" >"$tmp/want"
    if [ $st2 -eq 0 ] && cmp -s "$tmp/o2" "$tmp/want" && [ ! -s "$tmp/e2" ]; then
        pass "process2 $* prints $both"
    else
        fail "process2 $*: exit $st2, output:"
        cat "$tmp/o2" "$tmp/e2"
    fi
    if [ $st1 -eq 0 ] && [ "$(sed -n 1p "$tmp/o1")" = "$first" ] \
        && [ "$(sed -n '$p' "$tmp/o1")" = "$both" ] && [ ! -s "$tmp/e1" ]; then
        pass "process1 $* prints $first, then $both"
    else
        fail "process1 $*: exit $st1, output:"
        cat "$tmp/o1" "$tmp/e1"
    fi
    gone "$n" && pass "no block left" || fail "block $n left behind"
}
together "$name-b" "1 0 0 0" "1 2 3 4"
together "$name-f" "1.5 0 0 0" "1.5 2.5 3.5 4.5" --float64

# run_both NAME: process1, then process2 once process1 has printed, both
# running on until stopped, as in two terminals; sets pid1 and pid2.
run_both() {
    : >"$tmp/o1"
    : >"$tmp/o2"
    "$p1" --name "$1" --interval 50 >"$tmp/o1" 2>"$tmp/e1" &
    pid1=$!
    pids="$pid1"
    wait_line "$tmp/o1"
    "$p2" --name "$1" --interval 50 >"$tmp/o2" 2>"$tmp/e2" &
    pid2=$!
    pids="$pid1 $pid2"
    wait_line "$tmp/o2"
}

# ---- sysvshm ls next to the demos ------------------------------------------------
# What an operator sees with both demos running: the block's size, owner,
# both processes attached, process1 as its creator, a lock state.
tool=./tools/sysvshm
if [ -x "$tool" ]; then
    run_both "$name-l"
    "$tool" ls >"$tmp/ls" 2>"$tmp/lserr"
    st=$?
    kill -INT "$pid2" "$pid1"
    finish "$pid2"
    finish "$pid1"
    pids=
    # NAME KEY SHMID SIZE MODE OWNER NATTCH CPID LOCK STATE CREATED
    row=$(awk -v n="$name-l" '$1 == n' "$tmp/ls")
    want=$(id -un 2>/dev/null || echo root)
    set -- $row
    if [ $st -eq 0 ] && [ "$4" = 1024 ] && [ "$5" = 0600 ] && [ "$6" = "$want" ] \
        && [ "$7" = 2 ] && [ "$8" = "$pid1" ] && [ "${10}" = ready ]; then
        pass "sysvshm ls shows the demo block: 1024 bytes, $want, 2 attached, made by process1"
    else
        fail "sysvshm ls next to the demos (exit $st), row: $row"
        cat "$tmp/ls" "$tmp/lserr"
    fi
    case "$9" in
    free | write:"$pid1" | write:"$pid2" | read:1 | read:2)
        pass "sysvshm ls shows the lock state ($9)" ;;
    *)
        fail "sysvshm ls lock state: $9" ;;
    esac
    gone "$name-l" || fail "block $name-l left behind"
fi

# ---- Ctrl-C: process1 removes the block, process2 notices ------------------------
run_both "$name-i"
kill -INT "$pid1"
finish "$pid1"
st1=$?
finish "$pid2"
st2=$?
pids=
if [ $st1 -eq 0 ] && [ ! -s "$tmp/e1" ]; then
    pass "process1 exits 0 on SIGINT"
else
    fail "process1 on SIGINT: exit $st1"
    cat "$tmp/e1"
fi
if [ $st2 -eq 0 ] && [ "$(cat "$tmp/e2")" = "process2: block \"$name-i\" was removed (process1 ended)" ]; then
    pass "process2 says the block was removed, exits 0"
else
    fail "process2 after process1 ended: exit $st2, stderr:"
    cat "$tmp/e2"
fi
gone "$name-i" && pass "SIGINT left no block" || fail "SIGINT left block $name-i"

# ---- the name is taken -------------------------------------------------------------
: >"$tmp/o1"
"$p1" --name "$name-x" --interval 50 >"$tmp/o1" 2>"$tmp/e1" &
pid1=$!
pids="$pid1"
wait_line "$tmp/o1"
"$p1" --name "$name-x" --count 1 >"$tmp/out" 2>"$tmp/err"
st=$?
# It says who uses the block, and does not advise removing it.
if [ $st -eq 1 ] && [ "$(lines "$tmp/err")" = 1 ] \
    && grep "block \"$name-x\" is in use by .*$pid1.*still running" "$tmp/err" >/dev/null \
    && ! grep "sysvshm rm" "$tmp/err" >/dev/null; then
    pass "second process1: exit 1, says the first is still running, no removal advice"
else
    fail "second process1: exit $st, stderr:"
    cat "$tmp/err"
fi
# The failed create must not have touched the first one's block.
if [ "$("$p2" --name "$name-x" --count 1 2>&1)" = "1 2 3 4" ]; then
    pass "the first block is intact"
else
    fail "the first block was damaged"
fi
kill -TERM "$pid1"
finish "$pid1"
st1=$?
pids=
[ $st1 -eq 0 ] && pass "process1 exits 0 on SIGTERM" || fail "process1 on SIGTERM: exit $st1"
gone "$name-x" && pass "SIGTERM left no block" || fail "SIGTERM left block $name-x"

# ---- process1 killed with kill -9: what the README says happens ----------------
# process2 keeps printing; the next process1 says the block was left by a
# run that died and gives the one command that fixes it; after it, all is
# as new.
# Only where the sysvshm tool is built: it is the way out it tests.
if [ -x "$tool" ]; then
    run_both "$name-k"
    kill -KILL "$pid1"
    finish "$pid1"
    : >"$tmp/o2"
    wait_line "$tmp/o2" && kill -0 "$pid2" 2>/dev/null \
        && pass "process2 keeps printing after process1 is killed" \
        || fail "process2 stopped when process1 was killed"
    "$p1" --name "$name-k" --count 1 >"$tmp/out" 2>"$tmp/err"
    st=$?
    if [ $st -eq 1 ] && grep "left by a run that died (creator $pid1 is gone), but 1 process still has it attached; stop it, then remove it with 'sysvshm rm $name-k'" "$tmp/err" >/dev/null; then
        pass "process1 after kill -9, process2 running: says stop it, then sysvshm rm"
    else
        fail "process1 after kill -9 with process2 running: exit $st, stderr:"
        cat "$tmp/err"
    fi
    kill -INT "$pid2"
    finish "$pid2"
    pids=
    "$p1" --name "$name-k" --count 1 >"$tmp/out" 2>"$tmp/err"
    st=$?
    want="process1: block \"$name-k\" was left by a run that died (creator $pid1 is gone); remove it with 'sysvshm rm $name-k' and start again"
    if [ $st -eq 1 ] && [ "$(cat "$tmp/err")" = "$want" ]; then
        pass "process1 after kill -9: exit 1, says the run died and how to remove it"
    else
        fail "process1 after kill -9: exit $st, stderr:"
        cat "$tmp/err"
    fi
    if [ -x "$tool" ]; then
        if "$tool" rm "$name-k" && "$p1" --name "$name-k" --count 1 >"$tmp/out" 2>"$tmp/err" \
            && [ "$(cat "$tmp/out")" = "1 0 0 0" ]; then
            pass "sysvshm rm, then process1 starts afresh"
        else
            fail "after sysvshm rm: process1 says:"
            cat "$tmp/out" "$tmp/err"
        fi
    fi
    if gone "$name-k"; then
        pass "kill -9 case: no block left"
    else
        fail "kill -9 case: block $name-k left behind:"
        if [ -x "$tool" ]; then
            "$tool" stat "$name-k"
            "$tool" cat --no-lock -x -l 4 "$name-k"
        fi
    fi
else
    echo "# skipped: the kill -9 case (no $tool)"
fi

# ---- stdout closed: process1 | head -n 2 -----------------------------------------
"$p1" --name "$name-p" --count 100 --interval 20 2>"$tmp/err" | head -n 2 >"$tmp/out"
if [ "$(lines "$tmp/out")" = 2 ] && [ ! -s "$tmp/err" ] && gone "$name-p"; then
    pass "process1 | head: clean stop, no block left"
else
    fail "process1 | head:"
    cat "$tmp/out" "$tmp/err"
fi

exit $failed
