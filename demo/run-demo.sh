#!/bin/sh
# run-demo.sh - what `make demo' runs: the two demo programs together, as the
# Python original runs them in two terminals.  process1 creates MyMemory and
# prints its first four bytes; a second later process2 attaches and writes
# bytes 1-3, and from then on both print 1 2 3 4, process1 still after
# process2 has closed.  Each output line is labelled with the program that
# printed it.
#
#   usage: run-demo.sh [BUILDDIR [OPTION...]]
#
# BUILDDIR holds demo/process1 and demo/process2 (default: .); the OPTIONs go
# to both programs (make demo DEMO_FLAGS=--float64).
#
# Both programs run with --count, so both end by themselves; process1 removes
# the block when it ends, and also when it is interrupted (Ctrl-C reaches it
# with the rest of the foreground job; this script passes on SIGTERM/SIGHUP).

bin=${1:-.}/demo
[ $# -gt 0 ] && shift

for p in process1 process2; do
    if [ ! -x "$bin/$p" ]; then
        echo "run-demo.sh: $bin/$p not found: run make first" >&2
        exit 1
    fi
done

tmp=${TMPDIR:-/tmp}/sysvshm-demo.$$
mkdir "$tmp" || exit 1
pid1= pid2=

# Stop whatever still runs; process1 removes the block on SIGTERM.
stop() {
    for p in $pid1 $pid2; do
        kill -TERM "$p" 2>/dev/null
    done
    wait
}
trap 'rm -rf "$tmp"' 0
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP

# Copy lines from stdin, each prefixed with $1.  The shell writes each line
# as it comes, so the two programs' lines interleave in real time.
label() {
    while IFS= read -r line; do
        printf '%-9s %s\n' "$1:" "$line"
    done
}

# Each program writes to a FIFO read by its labeller, so that $! is the
# program itself (in a pipeline it would be the last command).
mkfifo "$tmp/out1" "$tmp/out2" || exit 1
flags=${*:+ $*}

echo "\$ process1 --count 8$flags &    # creates MyMemory, writes the first value"
label process1 <"$tmp/out1" &
"$bin/process1" --count 8 "$@" >"$tmp/out1" &
pid1=$!

sleep 1

echo "\$ process2 --count 3$flags      # attaches, writes the other three"
label process2 <"$tmp/out2" &
"$bin/process2" --count 3 "$@" >"$tmp/out2" &
pid2=$!

wait "$pid2"
status2=$?
pid2=
echo "(process2 has closed; the block lives on until process1 removes it)"
wait "$pid1"
status1=$?
pid1=
wait # for the labellers

if [ "$status1" -ne 0 ] || [ "$status2" -ne 0 ]; then
    echo "run-demo.sh: process1 exited $status1, process2 exited $status2" >&2
    exit 1
fi
exit 0
