#!/bin/sh
# tool-blocks.sh - sysvshm create, ls (table and --json), stat, rm, and their
# errors: a missing block, an existing one, another user's, a damaged header,
# a foreign segment on the key, a block destroyed while attached, and (in a
# private IPC namespace, as root) the system limits behind ENOSPC and EINVAL.
srcdir=${srcdir:-.}
. "$srcdir/tests/tool-lib.sh"

user=$(id -un 2>/dev/null || id -u)

# ---- create and ls ------------------------------------------------------------
name a; a=$n
name b; b=$n
name c; c=$n
expect 0 "create 4k" "$tool" create "$a" 4k
expect 0 "create 1M with mode 0640" "$tool" create "$b" 1M -m 0640
expect 0 "create --nolock" "$tool" create "/$c" 100 --nolock
expect 1 "create an existing name" "$tool" create "$a" 1k
contains "$tmp/err" "\"$a\": File exists" "create: the error names the block and the cause"
one_line_error "create an existing name"

expect 0 "ls" "$tool" ls
head -n 1 "$tmp/out" | tr -s ' ' >"$tmp/head"
if [ "$(cat "$tmp/head")" = "NAME KEY SHMID SIZE MODE OWNER NATTCH CPID LOCK STATE CREATED NOTE" ]; then
    ok "ls has a header line"
else
    not_ok "ls header: $(cat "$tmp/head")"
fi
r=$(row "$a")
if [ -n "$r" ]; then ok "ls lists $a"; else not_ok "ls does not list $a"; fi
[ "$(field 2 "$r")" = "$("$tool" key "$a")" ] && ok "ls: KEY is the name's key" ||
    not_ok "ls: KEY $(field 2 "$r")"
shmid=$(field 3 "$r")
ipcs -m | awk -v k="$(field 2 "$r")" -v id="$shmid" '$1 == k && $2 == id { f = 1 } END { exit !f }' &&
    ok "ls: KEY and SHMID are what ipcs shows" || not_ok "ls: $shmid not in ipcs -m"
[ "$(field 4 "$r")" = 4096 ] && ok "ls: SIZE 4k is 4096" || not_ok "ls: SIZE $(field 4 "$r")"
[ "$(field 5 "$r")" = 0600 ] && ok "ls: MODE 0600 by default" || not_ok "ls: MODE $(field 5 "$r")"
[ "$(field 6 "$r")" = "$user" ] && ok "ls: OWNER is us" || not_ok "ls: OWNER $(field 6 "$r")"
[ "$(field 7 "$r")" = 0 ] && ok "ls: nobody attached" || not_ok "ls: NATTCH $(field 7 "$r")"
case $(field 8 "$r") in
*"(dead)") ok "ls: the creating process (sysvshm create) is dead" ;;
*) not_ok "ls: CPID $(field 8 "$r")" ;;
esac
[ "$(field 9 "$r")" = free ] && ok "ls: LOCK free" || not_ok "ls: LOCK $(field 9 "$r")"
[ "$(field 10 "$r")" = ready ] && ok "ls: STATE ready" || not_ok "ls: STATE $(field 10 "$r")"
case $(field 11 "$r") in
[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]) ok "ls: CREATED is a date" ;;
*) not_ok "ls: CREATED $(field 11 "$r")" ;;
esac
r=$(row "$b")
[ "$(field 4 "$r")" = 1048576 ] && ok "ls: SIZE 1M is 1048576" || not_ok "ls: SIZE $(field 4 "$r")"
[ "$(field 5 "$r")" = 0640 ] && ok "ls: MODE 0640" || not_ok "ls: MODE $(field 5 "$r")"
r=$(row "$c")
[ -n "$r" ] && ok "a leading / is not part of the name" || not_ok "ls does not list $c"
[ "$(field 9 "$r")" = none ] && ok "ls: LOCK none for --nolock" || not_ok "ls: LOCK $(field 9 "$r")"

expect 0 "ls -a" "$tool" ls -a
[ -n "$(row "$a")" ] && ok "ls -a lists our blocks too" || not_ok "ls -a misses $a"

# ---- ls --json ----------------------------------------------------------------
expect 0 "ls --json" "$tool" ls --json
cp "$tmp/out" "$tmp/ls.json"
if have_python; then
    json_check "$tmp/ls.json" <<EOF
$a|b["size"]|4096
$a|b["key"]|$("$tool" key "$a")
$a|b["shmid"]|$shmid
$a|b["mode"]|0600
$a|b["owner"]|$user
$a|b["nattch"]|0
$a|b["cpid_alive"]|False
$a|b["state"]|ready
$a|b["foreign"]|False
$a|b["probe"]|0
$a|b["lock"]["state"]|free
$a|type(b["lock"]["semid"]).__name__|int
$a|b["lock"]["writer"]|None
$a|type(b["ctime"]).__name__ + " " + b["created"][-1]|int Z
$b|b["size"]|1048576
$b|b["mode"]|0640
$c|b["lock"]["state"]|none
$c|b["lock"]["semid"]|None
EOF
else
    contains "$tmp/ls.json" "\"name\": \"$a\"" "ls --json names the block (no python3: grep)"
    contains "$tmp/ls.json" "\"size\": 4096" "ls --json has the size"
    head -c 1 "$tmp/ls.json" | grep '\[' >/dev/null && ok "ls --json is an array" ||
        not_ok "ls --json does not start with ["
fi

# ---- stat -------------------------------------------------------------------------
expect 0 "stat" "$tool" stat "$a"
contains "$tmp/out" "name:        $a" "stat: name"
contains "$tmp/out" "state:       ready" "stat: state"
contains "$tmp/out" "shmid:       $shmid" "stat: shmid"
contains "$tmp/out" "size:        4096 bytes" "stat: size"
contains "$tmp/out" "semaphores:  semid" "stat: the semaphore set"
contains "$tmp/out" "lock:        free" "stat: lock"
expect 0 "stat --json" "$tool" stat --json "$a"
if have_python; then
    echo "$a|b['shmid']|$shmid" | json_check "$tmp/out"
fi
expect 0 "stat of a --nolock block" "$tool" stat "$c"
contains "$tmp/out" "made with --nolock" "stat: no semaphore set"

# ---- names with odd bytes: escaped in the table, valid JSON -------------------------
weird="$base-we ird\\$(printf '\001\377')é"
extra_cleanup() { "$tool" rm -f "$weird" 2>/dev/null; }
expect 0 "create a name with a blank, a backslash, a control byte, bad UTF-8" "$tool" create "$weird" 8
expect 0 "ls" "$tool" ls
contains "$tmp/out" "$base-we\x20ird\\\\\x01\xffé " "ls escapes the odd bytes and keeps UTF-8"
expect 0 "ls --json" "$tool" ls --json
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
if have_python; then
    python3 -c '
import json, sys
want = sys.argv[2]
found = [b for b in json.load(open(sys.argv[1])) if b.get("name_hex") == want]
sys.exit(0 if len(found) == 1 and found[0]["name"] is None else 1)' "$tmp/out" "$(hexof "$weird")" &&
        ok "ls --json: a name that is not UTF-8 is null, name_hex holds its bytes" ||
        not_ok "ls --json: odd name"
else
    contains "$tmp/out" "\"name_hex\": \"$(hexof "$weird")\"" "ls --json gives the name's bytes in hex"
fi
expect 0 "stat of the odd name" "$tool" stat "$weird"
expect 0 "rm of the odd name" "$tool" rm "$weird"

# ---- invisible and control characters: escaped wherever a name is shown -------------
# Valid UTF-8 that prints as nothing, or reorders what follows: a C1 control
# (U+009B, the 8-bit CSI), a bidi override (U+202E), a zero-width space
# (U+200B).  Each is written \uXXXX, so that My\u200bMemory never looks like
# MyMemory.
for cp in 009b:'\302\233' 202e:'\342\200\256' 200b:'\342\200\213'; do
    u=${cp%%:*}
    raw=$(printf "${cp#*:}")
    inv="$base-My${raw}Memory"
    names="$names $inv"
    expect 0 "create a name with U+$u" "$tool" create "$inv" 8
    expect 0 "ls" "$tool" ls
    contains "$tmp/out" "$base-My\\u${u}Memory " "ls writes U+$u as \\u$u"
    grep -F -e "$base" "$tmp/out" >"$tmp/mine"
    lacks "$tmp/mine" "$raw" "ls does not print U+$u raw"
    expect 0 "stat" "$tool" stat "$inv"
    contains "$tmp/out" "name:        $base-My\\u${u}Memory" "stat writes U+$u as \\u$u"
    lacks "$tmp/out" "$raw" "stat does not print U+$u raw"
    expect 1 "create it again" "$tool" create "$inv" 8
    contains "$tmp/err" "block \"$base-My\\u${u}Memory\": File exists" "errors write U+$u as \\u$u"
    lacks "$tmp/err" "$raw" "errors do not print U+$u raw"
    expect 0 "ls --json" "$tool" ls --json
    grep -F -e "$base" "$tmp/out" >"$tmp/mine"
    lacks "$tmp/mine" "$raw" "ls --json escapes U+$u"
    if have_python; then
        python3 -c '
import json, sys
want = sys.argv[2].encode("utf-8", "surrogateescape").decode("utf-8")
found = [b for b in json.load(open(sys.argv[1])) if b.get("name") == want]
sys.exit(0 if len(found) == 1 and found[0]["name_hex"] == sys.argv[3] else 1)' \
            "$tmp/out" "$inv" "$(hexof "$inv")" &&
            ok "ls --json gives the name with U+$u exactly, and its bytes" ||
            not_ok "ls --json: name with U+$u"
    fi
    expect 0 "rm" "$tool" rm "$inv"
done

# ---- JSON names are lossless: byte 0xff is not "ÿ" (U+00FF) --------------------------
yy="$base-$(printf '\303\277')"
ff="$base-$(printf '\377')"
names="$names $yy $ff"
expect 0 "create a name ending in U+00FF" "$tool" create "$yy" 8
expect 0 "create a name ending in the byte 0xff" "$tool" create "$ff" 16
expect 0 "ls --json" "$tool" ls --json
if have_python; then
    fhex=$(python3 -c '
import json, sys
pre = sys.argv[2]
bs = [b for b in json.load(open(sys.argv[1])) if b["state"] == "ready" and
      (b.get("name_hex") or "").startswith(pre) and b["name_hex"][len(pre):] in ("ff", "c3bf")]
ff = [b for b in bs if b["name"] is None]
yy = [b for b in bs if b["name"] is not None]
assert len(bs) == 2 and len(ff) == 1 and len(yy) == 1, bs
assert yy[0]["name"] == sys.argv[3].encode("utf-8", "surrogateescape").decode("utf-8")
assert yy[0]["name_hex"] == sys.argv[2] + "c3bf"
print(ff[0]["name_hex"])' "$tmp/out" "$(hexof "$base-")" "$yy")
else
    fhex=$(hexof "$ff")
fi
[ "$fhex" = "$(hexof "$ff")" ] && ok "ls --json: two names, told apart by name_hex" ||
    not_ok "ls --json: name_hex of the 0xff name is \"$fhex\""
expect 0 "stat --hex" "$tool" stat --hex "$fhex"
contains "$tmp/out" "size:        16 bytes" "stat --hex finds the block of those bytes"
expect 0 "cat --name-hex" "$tool" cat --name-hex "$fhex"
[ "$(wc -c <"$tmp/out" | tr -d ' ')" = 16 ] && ok "cat --name-hex reads the block of those bytes" ||
    not_ok "cat --name-hex read $(wc -c <"$tmp/out") bytes"
expect 0 "rm --hex with the name_hex from ls --json" "$tool" rm --hex "$fhex"
expect 1 "the 0xff block is gone" "$tool" stat "$ff"
expect 0 "the U+00FF block is still there" "$tool" stat "$yy"
expect 0 "rm the U+00FF block" "$tool" rm --hex "$(hexof "$yy")"
for bad in 4 4g 00 2f 41002f ""; do
    expect 2 "rm --hex \"$bad\" is bad usage" "$tool" rm --hex "$bad"
done
one_line_error "rm --hex with bad hex"

# ---- OWNER shows the creator when the owner was changed (IPC_SET) --------------------
# Linux's struct ipc_perm starts with the key and then the owner's uid.
if [ "$(uname -s)" = Linux ] && perl -MIPC::SysV -e 1 2>/dev/null; then
    name own; ow=$n
    "$tool" create "$ow" 1k
    okey=$("$tool" key "$ow")
    perl -MIPC::SysV=IPC_STAT,IPC_SET -e '
        my $id = shmget(hex($ARGV[0]), 0, 0); defined $id or die "shmget: $!\n";
        my $buf = ""; shmctl($id, IPC_STAT, $buf) or die "IPC_STAT: $!\n";
        substr($buf, 4, 4) = pack("L", $ARGV[1]);
        shmctl($id, IPC_SET, $buf) or die "IPC_SET: $!\n";' "$okey" 65534
    "$tool" stat "$ow" | grep -F "(uid 65534)" >/dev/null &&
        ok "the owner was changed with IPC_SET" || not_ok "IPC_SET did not change the owner"
    cname=$(id -un 2>/dev/null || id -u)
    oname=$(getent passwd 65534 2>/dev/null | cut -d: -f1)
    [ -n "$oname" ] || oname=65534
    utf8=$(locale -a 2>/dev/null | grep -i -x -E 'c\.utf-?8|en_US\.utf-?8' | head -n 1)
    if [ -n "$utf8" ]; then
        LC_ALL=$utf8 "$tool" ls >"$tmp/out"
        [ "$(field 6 "$(row "$ow")")" = "$cname→$oname" ] &&
            ok "ls OWNER is creator→owner in a UTF-8 locale" ||
            not_ok "ls OWNER: $(field 6 "$(row "$ow")")"
    fi
    LC_ALL=C "$tool" ls >"$tmp/out"
    [ "$(field 6 "$(row "$ow")")" = "$cname->$oname" ] &&
        ok "ls OWNER is creator->owner in the C locale" ||
        not_ok "ls OWNER (C locale): $(field 6 "$(row "$ow")")"
    expect 0 "ls --json" "$tool" ls --json
    if have_python; then
        json_check "$tmp/out" <<EOF
$ow|b["owner"]|$oname
$ow|b["creator"]|$cname
EOF
    fi
    "$tool" rm --any-user "$ow"
else
    echo "# skipped: owner changed with IPC_SET (needs Linux and perl's IPC::SysV)"
fi

# ---- missing blocks: exit 1, one line naming the block ------------------------------
name gone; g=$n
for c2 in stat rm cat write; do
    expect 1 "$c2 of a missing block" "$tool" "$c2" "$g" </dev/null
    contains "$tmp/err" "block \"$g\": No such file or directory" "$c2: names the block and the cause"
    one_line_error "$c2 of a missing block"
done
expect 1 "lock of a missing block" "$tool" lock "$g" true
one_line_error "lock of a missing block"
expect 0 "rm -f of a missing block" "$tool" rm -f "$g"

# ---- rm ------------------------------------------------------------------------------
expect 0 "rm two blocks" "$tool" rm "$a" "$b"
expect 0 "ls after rm" "$tool" ls
[ -z "$(row "$a")$(row "$b")" ] && ok "rm removed them" || not_ok "ls still lists them"
shm_exists "$shmid" && not_ok "segment $shmid still exists" || ok "rm removed the segment"
expect 1 "rm again" "$tool" rm "$a"
expect 1 "rm of a missing and a present block" "$tool" rm "$g" "$c"
expect 1 "stat after rm" "$tool" stat "$c"

# ---- a block destroyed while a process is attached ----------------------------------
name held; h=$n
"$tool" create "$h" 1k
"$tool" lock "$h" -- sh -c "echo > '$tmp/started'; exec sleep 3" &
lockpid=$!
pids="$pids $lockpid"
wait_for 5 test -f "$tmp/started"
hid=$("$tool" ls | awk -v n="$h" '$1 == n { print $3 }')
expect 1 "rm refuses a block a process is attached to" "$tool" rm "$h"
contains "$tmp/err" "block \"$h\": in use by 1 process: use --force to remove it anyway" \
    "rm says the block is in use, by how many, and names --force"
one_line_error "rm of a block in use"
"$tool" stat "$h" >/dev/null 2>&1 && ok "rm left the block in use alone" ||
    not_ok "rm removed a block in use"
expect 0 "rm --force while attached" "$tool" rm --force "$h"
expect 0 "ls" "$tool" ls
r=$(awk -v id="$hid" '$3 == id' "$tmp/out" | tr -s ' ')
[ "$(field 10 "$r")" = removed ] && ok "ls shows the destroyed block as removed" ||
    not_ok "ls: destroyed block: $r"
[ "$(field 2 "$r")" = 0x00000000 ] && ok "its key is IPC_PRIVATE now" || not_ok "key $(field 2 "$r")"
kill "$lockpid" 2>/dev/null
wait "$lockpid" 2>/dev/null

# ---- rm and a running creator ---------------------------------------------------------
# A block whose creating process still runs is in use by it, attached or not.
process1=${SYSVSHM_PROCESS1:-./demo/process1}
if [ -x "$process1" ]; then
    name p1; p=$n
    "$process1" --name "$p" --count 600 --interval 100 >/dev/null 2>&1 &
    pids="$pids $!"
    wait_for 10 "$tool" stat "$p"
    "$tool" ls >"$tmp/ls"
    pcpid=$(awk -v n="$p" '$1 == n { print $8 }' "$tmp/ls")
    expect 1 "rm refuses the block of a running creator" "$tool" rm "$p"
    contains "$tmp/err" "block \"$p\": in use by 1 process; creator $pcpid (process1) is running: use --force to remove it anyway" \
        "rm names the processes attached and the running creator"
    one_line_error "rm of a running creator's block"
    expect 0 "the block is still there" "$tool" stat "$p"
    expect 0 "rm -f removes it anyway" "$tool" rm -f "$p"
    expect 1 "it is gone" "$tool" stat "$p"
    kill "$(echo $pids | awk '{ print $NF }')" 2>/dev/null
else
    echo "# skipped: a running creator (no $process1)"
fi
# A sanitizer build's library cannot be loaded into python3 (its runtime
# must come first): then this case has no creator to run.
if have_python && [ -f lib/.libs/libsysvshm.so ] &&
    python3 -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' lib/.libs/libsysvshm.so 2>/dev/null; then
    # A creator that detached but still runs.
    name py; py=$n
    python3 -c '
import ctypes, sys, time
lib = ctypes.CDLL(sys.argv[1])
lib.sysvshm_create.restype = ctypes.c_void_p
h = lib.sysvshm_create(sys.argv[2].encode(), 4096, 0, 0o600)
if not h:
    sys.exit(1)
lib.sysvshm_close(ctypes.c_void_p(h))
open(sys.argv[3], "w").close()
time.sleep(60)' lib/.libs/libsysvshm.so "$py" "$tmp/py-ready" &
    pypid=$!
    pids="$pids $pypid"
    wait_for 10 test -f "$tmp/py-ready"
    expect 1 "rm refuses a detached block whose creator runs" "$tool" rm "$py"
    contains "$tmp/err" "block \"$py\": creator $pypid (python3) is running: use --force to remove it anyway" \
        "rm names the running creator"
    expect 0 "rm --force removes it" "$tool" rm --force "$py"
    kill "$pypid" 2>/dev/null
else
    echo "# skipped: a detached running creator (needs python3 and lib/.libs)"
fi
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -p -f --mount-proc true 2>/dev/null; then
    # Seen from a new PID namespace, the creator's pid is 0: unknown, so
    # counted as running.
    name ns; ns=$n
    "$tool" create "$ns" 1k
    expect 1 "rm refuses a block whose creator is not visible" \
        unshare -p -f --mount-proc "$tool" rm "$ns"
    contains "$tmp/err" "block \"$ns\": creator not visible from here (pid 0), counted as running: use --force to remove it anyway" \
        "rm says the creator is not visible and counts as running"
    expect 0 "rm --force removes it" unshare -p -f --mount-proc "$tool" rm --force "$ns"
    expect 1 "it is gone" "$tool" stat "$ns"
else
    echo "# skipped: a creator in another PID namespace (needs root and unshare -p)"
fi

# ---- damaged header, foreign segment on the key -----------------------------------
name dmg; d=$n
mkhalf "$d" damaged
d_shm=$h_shmid
expect 0 "ls" "$tool" ls
r=$(row "$d")
[ "$(field 10 "$r")" = damaged ] && ok "ls shows a damaged header" || not_ok "ls: damaged: $r"
# Every hint sends to the one command that removes it: no loop between
# create, rm and ipcrm.
expect 1 "create over a damaged block of the name" "$tool" create "$d" 1k
contains "$tmp/err" "sysvshm rm --force $d" "create's hint: sysvshm rm --force NAME"
lacks "$tmp/err" "remove it with \`sysvshm rm'" "create does not send to a plain rm"
one_line_error "create over a damaged block"
expect 1 "cat of a damaged block" "$tool" cat "$d"
contains "$tmp/err" "sysvshm rm --force $d" "cat's hint: sysvshm rm --force NAME"
one_line_error "cat of a damaged block"
expect 0 "stat of a damaged block" "$tool" stat "$d"
contains "$tmp/out" "sysvshm rm --force $d" "stat says how to remove it"
expect 1 "rm refuses a damaged block" "$tool" rm "$d"
contains "$tmp/err" "sysvshm rm --force $d" "rm's hint: sysvshm rm --force NAME"
lacks "$tmp/err" "ipcrm" "rm does not send to ipcrm"
one_line_error "rm of a damaged block"
shm_exists "$d_shm" && ok "the damaged segment is left alone" || not_ok "damaged segment removed"
expect 0 "rm --force removes a damaged block of the name" "$tool" rm --force "$d"
shm_exists "$d_shm" && not_ok "damaged segment $d_shm still there" || ok "the damaged segment is gone"
expect 0 "create succeeds after rm --force: no loop" "$tool" create "$d" 1k
expect 0 "rm the new block" "$tool" rm "$d"

# With its own semaphore set, and with a set that is not provably its own.
name dmgs; ds=$n
mkhalf "$ds" damaged --lock
ds_shm=$h_shmid ds_sem=$h_semid
expect 0 "rm --force of a damaged block with a semaphore set" "$tool" rm --force "$ds"
shm_exists "$ds_shm" && not_ok "segment $ds_shm still there" || ok "its segment is gone"
sem_exists "$ds_sem" && not_ok "set $ds_sem still there" || ok "its own semaphore set is gone"
name dmgn; dn=$n
mkhalf "$dn" damaged --lock --nomark
dn_shm=$h_shmid dn_sem=$h_semid
expect 0 "rm --force of a damaged block with an unmarked set" "$tool" rm --force "$dn"
shm_exists "$dn_shm" && not_ok "segment $dn_shm still there" || ok "its segment is gone"
sem_exists "$dn_sem" && ok "a set that is not provably the block's is left" ||
    not_ok "rm --force removed an unmarked set"

# Attached: refused even with --force.
name dmga; da=$n
mkhalf "$da" damaged --attached
da_shm=$h_shmid
expect 1 "rm --force refuses a damaged block with a process attached" "$tool" rm --force "$da"
contains "$tmp/err" "block \"$da\": " "the error names the block"
contains "$tmp/err" "in use by 1 process" "and says it is in use"
one_line_error "rm --force of an attached damaged block"
shm_exists "$da_shm" && ok "the attached damaged segment is left" || not_ok "attached damaged segment removed"

# A header the marks contradict (suspect): the library takes it for damaged.
name sus; su=$n
mkhalf "$su" unlinking --nomark
su_shm=$h_shmid
expect 1 "create over a suspect block" "$tool" create "$su" 1k
contains "$tmp/err" "sysvshm rm --force $su" "create's hint: sysvshm rm --force NAME"
expect 1 "rm of a suspect block" "$tool" rm "$su"
contains "$tmp/err" "sysvshm rm --force $su" "rm's hint: sysvshm rm --force NAME"
expect 0 "rm --force of a suspect block" "$tool" rm --force "$su"
shm_exists "$su_shm" && not_ok "suspect segment still there" || ok "the suspect segment is gone"

name fgn; f=$n
mkhalf "$f" foreign
fid=$h_shmid
expect 0 "ls" "$tool" ls
awk -v id="$fid" '$3 == id' "$tmp/out" | grep . >/dev/null &&
    not_ok "ls lists a foreign segment" || ok "ls leaves out a foreign segment"
expect 0 "ls -a" "$tool" ls -a
r=$(awk -v id="$fid" '$3 == id' "$tmp/out" | tr -s ' ')
[ "$(field 10 "$r")" = foreign ] && ok "ls -a marks it foreign" || not_ok "ls -a: $r"
[ "$(field 1 "$r")" = - ] && ok "a foreign segment has no name" || not_ok "name $(field 1 "$r")"
expect 0 "create over a foreign segment" "$tool" create "$f" 64
expect 0 "stat" "$tool" stat "$f"
contains "$tmp/out" "(probe 1;" "the block moved to the second key"
expect 0 "rm" "$tool" rm "$f"
shm_exists "$fid" && ok "rm left the foreign segment alone" || not_ok "rm removed a foreign segment"

# ---- every key of the name held: the hint says by what ------------------------------
# Sets that are not the library's at six keys (create steps over a key whose
# set is another's; `ls -a' shows no sets), another program's segment at
# one, and a marked set beside that segment at the last.
name full; fu=$n
fu_sets=
i=0
while [ $i -lt 6 ]; do
    mkhalf "$fu" stray-set --nomark --probe $i
    fu_sets="$fu_sets $h_semid"
    i=$((i + 1))
done
mkhalf "$fu" foreign --probe 6
fu_fgn=$h_shmid
mkhalf "$fu" foreign --probe 7
fu_fgn2=$h_shmid
expect 1 "create with every key held" "$tool" create "$fu" 1k
# The C library's own words for EADDRINUSE ("Address already in use" in
# glibc, "Address in use" in musl).
eaddrinuse=$(perl -MPOSIX -e 'print POSIX::strerror(POSIX::EADDRINUSE)' 2>/dev/null)
[ -n "$eaddrinuse" ] || eaddrinuse="in use"
if grep -F -e "Address already in use" -e "Address in use" -e "$eaddrinuse" "$tmp/err" >/dev/null; then
    ok "create says EADDRINUSE"
else
    not_ok "create says EADDRINUSE (no strerror(EADDRINUSE) in err)"
    sed 's/^/#   /' "$tmp/err"
fi
for id in $fu_sets; do
    contains "$tmp/err" "semaphore set $id of $user (not this library's)" \
        "the hint names the set $id at its key, its owner and that it is not ours"
done
contains "$tmp/err" "segment $fu_fgn of $user (not this library's)" "the hint names the foreign segment"
contains "$tmp/err" "segment $fu_fgn2 of" "and the other"
contains "$tmp/err" "$("$tool" key "$fu")" "the hint names the keys"
one_line_error "create with every key held"
ipcrm -s $(echo $fu_sets | sed 's/ / -s /g') 2>/dev/null
expect 0 "create once the keys are free" "$tool" create "$fu" 1k
"$tool" rm "$fu"

# ---- another user's block (root only) ------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    name other; o=$n
    expect 0 "create as another user" as_nobody "$tool" create "$o" 1k -m 0666
    expect 1 "cat of another user's block" "$tool" cat "$o"
    contains "$tmp/err" "--any-user" "the hint names --any-user"
    one_line_error "another user's block"
    expect 0 "cat --any-user" "$tool" cat --any-user "$o"
    expect 1 "rm of another user's block" "$tool" rm "$o"
    expect 0 "rm --any-user" "$tool" rm --any-user "$o"
    name mine; m=$n
    "$tool" create "$m" 1k
    expect 1 "another user may not read a 0600 block" as_nobody "$tool" cat "$m"
    contains "$tmp/err" "Permission denied" "cat says Permission denied"
    expect 1 "stat of an unreadable block" as_nobody "$tool" stat "$m"
    contains "$tmp/err" "Permission denied" "stat says Permission denied"
    expect 0 "ls -a as another user" as_nobody "$tool" ls -a
    "$tool" rm "$m"
else
    echo "# skipped: another user's blocks (needs root and setpriv)"
fi

# ---- limits, in a private IPC namespace (root only) -----------------------------------
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && unshare -i true 2>/dev/null; then
    abs=$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")
    limits() {
        unshare -i sh -c "$1 && exec '$abs' create limit $2"
    }
    expect 1 "size above SHMMAX" limits 'echo 100000 >/proc/sys/kernel/shmmax' 1M
    contains "$tmp/err" "SHMMAX" "EINVAL: the hint names SHMMAX"
    contains "$tmp/err" "/proc/sys/kernel/shmmax" "EINVAL: the hint says where to look"
    one_line_error "size above SHMMAX"
    expect 1 "SHMMNI reached" limits 'echo 0 >/proc/sys/kernel/shmmni' 1k
    contains "$tmp/err" "not disk space" "ENOSPC: not disk space"
    contains "$tmp/err" "SHMMNI" "ENOSPC: the hint names SHMMNI"
    expect 1 "SHMALL reached" limits 'echo 1 >/proc/sys/kernel/shmall' 64k
    contains "$tmp/err" "SHMALL" "ENOSPC: the hint names SHMALL"
    expect 1 "SEMMNI reached" limits 'echo "250 32000 32 0" >/proc/sys/kernel/sem' 1k
    contains "$tmp/err" "SEMMNI" "ENOSPC: the hint names SEMMNI"
    expect 0 "--nolock needs no semaphore set" limits 'echo "250 32000 32 0" >/proc/sys/kernel/sem' "1k --nolock"
else
    echo "# skipped: system limits (needs root and unshare -i)"
fi

finish
