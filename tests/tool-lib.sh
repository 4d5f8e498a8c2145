# tool-lib.sh - sourced by the tests/tool-*.sh tests of the sysvshm command.
# Not a test itself.  The tests run from the top build directory (automake's
# plain test driver: exit 0 pass, 77 skip, 99 hard error, else fail).
#
# Every block name starts with $base, unique to the run; the exit trap
# removes every block, raw segment and semaphore set a test made, and stops
# every process it left running, even when a check fails.

tool=${SYSVSHM_TOOL:-./tools/sysvshm}
mkhalf=${SYSVSHM_MKHALF:-./tools/svs-mkhalf}
me=${0##*/}
base=svst$$x$(date +%s)
tmp=${TMPDIR:-/tmp}/$me.$$
fails=0
checks=0
names=
shmids=
semids=
pids=

for p in "$tool" "$mkhalf"; do
    if [ ! -x "$p" ]; then
        echo "$me: $p not built" >&2
        exit 99
    fi
done
mkdir "$tmp" || exit 99

cleanup() {
    for p in $pids; do
        kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
    for n in $names; do
        "$tool" rm -f --any-user "$n" 2>/dev/null
    done
    # Names with blanks cannot be in $names: a test removes them here.
    if command -v extra_cleanup >/dev/null 2>&1; then
        extra_cleanup
    fi
    for id in $semids; do
        ipcrm -s "$id" 2>/dev/null
    done
    for id in $shmids; do
        ipcrm -m "$id" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' HUP INT TERM

# name TAG: sets $n to a fresh block name and registers it for cleanup.
name() {
    n=$base-$1
    names="$names $n"
}

ok() {
    checks=$((checks + 1))
    echo "ok $checks - $*"
}

not_ok() {
    checks=$((checks + 1))
    fails=$((fails + 1))
    echo "not ok $checks - $*"
    if [ -s "$tmp/err" ]; then
        sed 's/^/#   stderr: /' "$tmp/err"
    fi
}

# run CMD...: runs it with stdout in $tmp/out, stderr in $tmp/err, sets $rc.
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# expect WANT DESC CMD...: runs CMD and checks its exit status.
expect() {
    want=$1 desc=$2
    shift 2
    run "$@"
    if [ "$rc" -eq "$want" ]; then
        ok "$desc"
    else
        not_ok "$desc (exit $rc, want $want)"
    fi
}

# An error is one line on stderr.
one_line_error() {
    lines=$(wc -l <"$tmp/err" | tr -d ' ')
    if [ "$lines" -eq 1 ]; then
        ok "$1: one line on stderr"
    else
        not_ok "$1: $lines lines on stderr, want 1"
    fi
}

# contains FILE TEXT DESC
contains() {
    if grep -F -e "$2" "$1" >/dev/null; then
        ok "$3"
    else
        not_ok "$3 (no \"$2\" in $(basename "$1"))"
        sed 's/^/#   /' "$1"
    fi
}

lacks() {
    if grep -F -e "$2" "$1" >/dev/null; then
        not_ok "$3 (\"$2\" found in $(basename "$1"))"
        sed 's/^/#   /' "$1"
    else
        ok "$3"
    fi
}

# row NAME: the `sysvshm ls' row of NAME in $tmp/out, blanks squeezed.
row() {
    awk -v n="$1" '$1 == n' "$tmp/out" | tr -s ' '
}

# field N TEXT: the Nth blank-separated field of TEXT.
field() {
    echo "$2" | awk -v f="$1" '{ print $f }'
}

# Python starts slowly: ask once.
have_python() {
    if [ -z "${have_python_cached:-}" ]; then
        if command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null; then
            have_python_cached=0
        else
            have_python_cached=1
        fi
    fi
    return $have_python_cached
}

# json_check FILE: checks the JSON array of blocks in FILE (ls --json) with
# one Python start-up: reads lines "NAME|EXPR|WANT" on stdin, evaluates EXPR
# with `b' bound to the object of block NAME, and compares str(result) to
# WANT.  Each line counts as a check.
json_check() {
    python3 -c '
import json, sys
try:
    data = json.load(open(sys.argv[1]))
    assert isinstance(data, list)
    print("ok|valid JSON array|")
except Exception as e:
    data = None
    print("bad|valid JSON array|%s" % e)
for line in sys.stdin:
    name, expr, want = line.rstrip("\n").split("|", 2)
    desc = "json %s: %s == %s" % (name, expr, want)
    blocks = [b for b in data or [] if b.get("name") == name]
    if not blocks:
        print("bad|%s|no such block" % desc)
        continue
    try:
        got = str(eval(expr, {"b": blocks[0]}))
    except Exception as e:
        got = "error: %s" % e
    print("ok|%s|" % desc if got == want else "bad|%s|%s" % (desc, got))
' "$1" >"$tmp/json-results" || not_ok "json_check: python3 failed"
    while IFS='|' read -r verdict desc got; do
        if [ "$verdict" = ok ]; then
            ok "$desc"
        else
            not_ok "$desc (got $got)"
        fi
    done <"$tmp/json-results"
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
    limit=$(($1 * 10))
    shift
    i=0
    while [ $i -lt $limit ]; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1 2>/dev/null || sleep 1
        i=$((i + 1))
    done
    return 1
}

# mkhalf NAME STATE [OPTION...]: a leftover made by tools/svs-mkhalf (see
# there); sets $h_shmid $h_semid $h_pid $h_holder and registers them for
# cleanup.
mkhalf() {
    case " $* " in
    *" --live "*) live=1 ;;
    *) live=0 ;;
    esac
    set -- $("$mkhalf" "$@")
    if [ $# -ne 4 ]; then
        echo "$me: svs-mkhalf failed" >&2
        exit 99
    fi
    h_shmid=$1 h_semid=$2 h_pid=$3 h_holder=$4
    [ "$1" -ge 0 ] && shmids="$shmids $1"
    [ "$2" -ge 0 ] && semids="$semids $2"
    # Only a live child is ours to kill: a dead one's pid may be reused.
    [ $live -eq 1 ] && pids="$pids $3"
    [ "$4" -gt 0 ] && pids="$pids $4"
    return 0
}

shm_exists() {
    ipcs -m | awk -v id="$1" '$2 == id { f = 1 } END { exit !f }'
}

sem_exists() {
    ipcs -s | awk -v id="$1" '$2 == id { f = 1 } END { exit !f }'
}

finish() {
    echo "1..$checks"
    if [ "$fails" -gt 0 ]; then
        echo "$me: $fails of $checks checks failed" >&2
        exit 1
    fi
    exit 0
}
