#!/bin/sh
# tool-gc.sh - sysvshm gc removes exactly what the library's one rule
# (lib/reclaim.c) allows, and ls shows the same judgement:
#  - a half-made block is garbage only with the creator's mark (mode 0711),
#    its creator known dead and nobody attached; an interrupted removal only
#    with the remover's mark (0100); a segment with mode 0711 and no header
#    yet (its creator died before it attached) is half-made too;
#  - a header the marks contradict (INIT without 0711 of a dead creator,
#    UNLINKING without 0100: libsysvshm 0.1's, or written by a user of the
#    block) is suspect, and only --force removes it;
#  - anything attached, a complete block, a block still being made, a creator
#    not visible from our PID namespace (pid 0), a damaged or foreign segment
#    are left alone, each named on one line with the reason;
#  - a marked semaphore set with no segment at its key is removed if it is
#    the caller's own, reported otherwise; a set that is not provably a
#    block's own stays.
# The leftovers are made by tools/svs-mkhalf (raw shmget, a hand-written
# header, the library's marks unless --nomark) from a child that exits.
#
# gc is given our names, so that it cannot touch what tests running at the
# same time leave on the host on purpose; a plain `gc' over the whole host
# is run in a private IPC namespace (root only).
srcdir=${srcdir:-.}
. "$srcdir/tests/tool-lib.sh"

# The STATE and NOTE columns of NAME in `sysvshm ls' (NOTE may hold blanks).
state_of() {
    "$tool" ls -a | awk -v n="$1" '$1 == n { print $10 }'
}
note_of() {
    "$tool" ls -a | awk -v n="$1" '$1 == n { for (i = 13; i <= NF; i++) printf "%s%s", $i, (i < NF ? " " : ""); print "" }'
}
key_row() {
    "$tool" ls -a | awk -v k="$1" '$2 == k' | tr -s ' '
}

# ---- leftovers with the library's marks ------------------------------------------
name half; h=$n
mkhalf "$h" init --lock
h_shm=$h_shmid h_sem=$h_semid
name unl; u=$n
mkhalf "$u" unlinking --lock
u_shm=$h_shmid u_sem=$h_semid
name ready; r=$n
"$tool" create "$r" 1k || exit 99
name live; l=$n
mkhalf "$l" init --live
l_shm=$h_shmid l_pid=$h_pid
name dmg; d=$n
mkhalf "$d" damaged
d_shm=$h_shmid
name inuse; a=$n
mkhalf "$a" unlinking --lock --attached
a_shm=$h_shmid a_sem=$h_semid a_holder=$h_holder
name nohdr; p=$n
mkhalf "$p" partial
p_shm=$h_shmid
p_key=$("$tool" key "$p")

[ "$(state_of "$h")" = half-made ] && ok "ls: a dead creator's marked INIT block is half-made" ||
    not_ok "ls: state $(state_of "$h")"
[ "$(state_of "$u")" = unlinking ] && ok "ls: an interrupted removal is unlinking" ||
    not_ok "ls: state $(state_of "$u")"
[ "$(state_of "$l")" = init ] && ok "ls: a live creator's INIT block is init" ||
    not_ok "ls: state $(state_of "$l")"
[ "$(state_of "$a")" = unlinking ] && ok "ls: an attached unlinking block is unlinking" ||
    not_ok "ls: state $(state_of "$a")"
case $(note_of "$a") in
*"in use by 1 process"*) ok "ls: its note says it is in use by 1 process" ;;
*) not_ok "ls: note of an attached unlinking block: $(note_of "$a")" ;;
esac
rowp=$(key_row "$p_key")
[ "$(field 10 "$rowp")" = half-made ] && ok "ls -a: a never-attached 0711 segment is half-made" ||
    not_ok "ls -a: no-header segment: $rowp"
[ "$(field 1 "$rowp")" = - ] && ok "ls -a: it names no block" || not_ok "name $(field 1 "$rowp")"
"$tool" ls | awk -v k="$p_key" '$2 == k' | grep . >/dev/null &&
    not_ok "plain ls lists a segment that names no block" ||
    ok "plain ls leaves out a segment that names no block"
if have_python; then
    "$tool" ls --json >"$tmp/ls.json"
    json_check "$tmp/ls.json" <<EOF
$h|b["gc_removes"]|True
$h|b["state"]|half-made
$a|b["gc_removes"]|False
$a|b["note"]|in use by 1 process
$l|b["gc_removes"]|False
EOF
else
    echo "# skipped: ls --json checks (no python3)"
fi
expect 0 "stat" "$tool" stat "$a"
contains "$tmp/out" "gc:          leaves it (in use)" "stat: gc leaves an attached block"

# The library passes over them: they are not blocks yet (or any more).
expect 1 "cat of a half-made block" "$tool" cat "$h"
contains "$tmp/err" "sysvshm gc" "the hint points to gc"
one_line_error "cat of a half-made block"
expect 1 "rm of an interrupted removal" "$tool" rm "$u"
contains "$tmp/err" "sysvshm gc" "the hint points to gc"

# --dry-run changes nothing.
expect 0 "gc --dry-run" "$tool" gc --dry-run "$h" "$u" "$r" "$l" "$d" "$a" "$p"
contains "$tmp/out" "would remove half-made block \"$h\"" "dry run: the half-made block"
contains "$tmp/out" "semid $h_sem" "dry run: with its semaphore set"
contains "$tmp/out" "would remove leftover of an interrupted removal \"$u\"" "dry run: the interrupted removal"
contains "$tmp/out" "would remove half-made block with no header (key $p_key" "dry run: the segment with no header"
lacks "$tmp/out" "\"$r\"" "dry run: not a word of the complete block"
lacks "$tmp/out" "would remove leftover of an interrupted removal \"$a\"" "dry run: not the attached block"
shm_exists "$h_shm" && sem_exists "$h_sem" && shm_exists "$p_shm" && ok "dry run removed nothing" ||
    not_ok "dry run removed something"

expect 0 "gc" "$tool" gc "$h" "$u" "$r" "$l" "$d" "$a" "$p"
contains "$tmp/out" "removed half-made block \"$h\"" "gc says what it removed"
contains "$tmp/out" "block \"$a\" (key" "gc names the attached block it leaves"
contains "$tmp/out" "in use by 1 process, left alone" "and says it is in use"
contains "$tmp/out" "block \"$l\" (key" "gc names the block still being made"
contains "$tmp/out" "is alive, left alone" "and says its creator is alive"
contains "$tmp/out" "block \"$d\" (key" "gc names the damaged block"
contains "$tmp/out" "sysvshm rm --force $d" "and says how to remove it"
lacks "$tmp/out" "\"$r\"" "gc says nothing of a complete block"
shm_exists "$h_shm" && not_ok "half-made segment left" || ok "gc removed the half-made segment"
sem_exists "$h_sem" && not_ok "half-made semaphore set left" || ok "gc removed its semaphore set"
shm_exists "$u_shm" && not_ok "unlinking segment left" || ok "gc removed the interrupted removal"
sem_exists "$u_sem" && not_ok "unlinking semaphore set left" || ok "gc removed its semaphore set"
shm_exists "$p_shm" && not_ok "no-header segment left" || ok "gc removed the segment with no header"
[ "$(state_of "$r")" = ready ] && ok "gc never removes a complete block" || not_ok "complete block gone"
shm_exists "$l_shm" && ok "gc leaves a block a live process is making" || not_ok "live INIT removed"
shm_exists "$d_shm" && ok "gc leaves a damaged segment" || not_ok "damaged segment removed"
shm_exists "$a_shm" && sem_exists "$a_sem" && ok "gc leaves an attached block and its set" ||
    not_ok "attached unlinking block removed"
expect 0 "the name is free again" "$tool" create "$h" 1k
expect 0 "gc with nothing to do" "$tool" gc "$h" "$r"
[ -s "$tmp/out" ] && not_ok "gc said: $(cat "$tmp/out")" || ok "gc with nothing to do is quiet"

# Its user goes: now it is garbage.
kill "$a_holder"
wait_for 5 sh -c "'$tool' ls | awk -v n='$a' '\$1 == n && \$7 == 0 { f = 1 } END { exit !f }'"
expect 0 "gc once nobody is attached" "$tool" gc "$a"
shm_exists "$a_shm" && not_ok "gc left the detached block" || ok "gc removed it once detached"
sem_exists "$a_sem" && not_ok "gc left its set" || ok "and its set"

# The live creator dies: now it is garbage.
kill "$l_pid"
wait_for 5 sh -c "[ \"\$('$tool' ls | awk -v n='$l' '\$1 == n { print \$10 }')\" = half-made ]" &&
    ok "a dead creator's block becomes half-made" || not_ok "state $(state_of "$l")"
expect 0 "gc" "$tool" gc "$l"
shm_exists "$l_shm" && not_ok "gc left it" || ok "gc removed it"

# The ipcs listing finds the same garbage.
name half2; h2=$n
mkhalf "$h2" init
h2_shm=$h_shmid
expect 0 "gc with the ipcs listing" env SYSVSHM_LIST_BACKEND=ipcs "$tool" gc "$h2"
shm_exists "$h2_shm" && not_ok "gc (ipcs) left it" || ok "gc (ipcs) removed it"

# ---- leftovers without the marks: libsysvshm 0.1's, or a forged header -----------------
name old; o=$n
mkhalf "$o" init --lock --nomark
o_shm=$h_shmid o_sem=$h_semid
name forged; f=$n
mkhalf "$f" unlinking --lock --nomark
f_shm=$h_shmid f_sem=$h_semid
[ "$(state_of "$o")" = suspect ] && ok "ls: an unmarked INIT block of a dead creator is suspect" ||
    not_ok "ls: state $(state_of "$o")"
case $(note_of "$o") in
*"creator's mark"*) ok "ls: the note says the creator's mark is missing" ;;
*) not_ok "ls: note $(note_of "$o")" ;;
esac
[ "$(state_of "$f")" = suspect ] && ok "ls: an UNLINKING header without the remover's mark is suspect" ||
    not_ok "ls: state $(state_of "$f")"
expect 1 "cat of an unmarked UNLINKING block" "$tool" cat "$f"
contains "$tmp/err" "--force" "the hint names gc --force"
one_line_error "cat of a suspect block"
expect 0 "gc leaves them" "$tool" gc "$o" "$f"
contains "$tmp/out" "made by libsysvshm 0.1 or by hand: use --force" "gc: an unmarked INIT block needs --force"
contains "$tmp/out" "no remover's mark: the header may have been written by a user of the block" \
    "gc: an unmarked UNLINKING header may be a writer's"
shm_exists "$o_shm" && shm_exists "$f_shm" && ok "gc removed neither" || not_ok "gc removed an unmarked leftover"
expect 0 "gc --force -n" "$tool" gc --force -n "$o" "$f"
contains "$tmp/out" "would remove leftover without the library's marks \"$o\"" "gc --force -n: the INIT one"
shm_exists "$o_shm" && ok "gc --force -n removed nothing" || not_ok "gc --force -n removed it"
expect 0 "gc --force" "$tool" gc --force "$o" "$f"
contains "$tmp/out" "removed leftover without the library's marks \"$f\"" "gc --force says what it removed"
shm_exists "$o_shm" && not_ok "gc --force left the INIT one" || ok "gc --force removed the INIT one"
shm_exists "$f_shm" && not_ok "gc --force left the UNLINKING one" || ok "gc --force removed the UNLINKING one"
sem_exists "$o_sem" && ok "gc --force leaves a set without the library's mark" ||
    not_ok "gc --force removed an unmarked set"
contains "$tmp/out" "semaphore set $o_sem (key" "and says so"
ipcrm -s "$o_sem" 2>/dev/null
ipcrm -s "$f_sem" 2>/dev/null

# --force never removes what is attached.
name oldin; oi=$n
mkhalf "$oi" unlinking --nomark --attached
oi_shm=$h_shmid
expect 0 "gc --force of an attached unmarked block" "$tool" gc --force "$oi"
shm_exists "$oi_shm" && ok "gc --force leaves an attached block" || not_ok "gc --force removed it"
contains "$tmp/out" "in use by 1 process, left alone" "and says it is in use"

# ---- stray semaphore sets --------------------------------------------------------------
name stray; s=$n
mkhalf "$s" stray-set
s_sem=$h_semid
name unmarked; um=$n
mkhalf "$um" stray-set --nomark
um_sem=$h_semid
expect 0 "gc -n" "$tool" gc -n "$s" "$um"
contains "$tmp/out" "would remove stray semaphore set $s_sem" "gc -n: a marked set with no segment"
lacks "$tmp/out" "$um_sem" "gc ignores a set without the library's mark"
expect 0 "gc" "$tool" gc "$s" "$um"
sem_exists "$s_sem" && not_ok "gc left the stray set" || ok "gc removed the stray set"
sem_exists "$um_sem" && ok "gc left the unmarked set" || not_ok "gc removed an unmarked set"
name stray2; s2=$n
mkhalf "$s2" stray-set
s2_sem=$h_semid
expect 0 "gc with the ipcs listing" env SYSVSHM_LIST_BACKEND=ipcs "$tool" gc "$s2"
contains "$tmp/out" "removed stray semaphore set $s2_sem" "gc (ipcs) finds the stray set"
sem_exists "$s2_sem" && not_ok "gc (ipcs) left the stray set" || ok "gc (ipcs) removed it"

# ---- a creator that is not visible from our PID namespace (root only) ----------------------
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare --pid --fork --mount-proc true 2>/dev/null; then
    name hidden; hd=$n
    mkhalf "$hd" init
    hd_shm=$h_shmid
    unshare --pid --fork --mount-proc "$tool" ls >"$tmp/out" 2>"$tmp/err"
    r=$(row "$hd")
    [ "$(field 8 "$r")" = "0(?)" ] && ok "ls in another PID namespace: CPID 0(?)" ||
        not_ok "ls: CPID $(field 8 "$r")"
    [ "$(field 10 "$r")" = init ] && ok "an unknown creator counts as alive: init" ||
        not_ok "ls: state $(field 10 "$r")"
    SYSVSHM_LIST_BACKEND=ipcs unshare --pid --fork "$tool" stat "$hd" >"$tmp/out" 2>"$tmp/err"
    contains "$tmp/out" "process 0 (not visible from here: counts as alive)" "stat (ipcs): creator 0 is not dead"
    unshare --pid --fork --mount-proc "$tool" gc "$hd" >"$tmp/out" 2>"$tmp/err"
    shm_exists "$hd_shm" && ok "gc in another PID namespace leaves it" || not_ok "gc removed it"
    contains "$tmp/out" "not visible from here" "and says why"
    expect 0 "gc here removes it" "$tool" gc "$hd"
    shm_exists "$hd_shm" && not_ok "gc left it" || ok "gc removed it"
else
    echo "# skipped: a creator outside our PID namespace (needs root and unshare --pid)"
fi

# ---- another user's leftovers (root only) ---------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    name rootleft; rl=$n
    mkhalf "$rl" init
    rl_shm=$h_shmid
    expect 0 "gc as another user" as_nobody "$tool" gc "$rl"
    contains "$tmp/out" "another user's" "gc names another user's leftover"
    shm_exists "$rl_shm" && ok "and leaves it" || not_ok "another user removed it"
    [ "$(state_of "$rl")" = half-made ] && ok "ls: still half-made (for its owner)" ||
        not_ok "ls: state $(state_of "$rl")"
    name nobodyset; ns=$n
    set -- $(as_nobody "$mkhalf" "$ns" stray-set)
    ns_sem=$2
    semids="$semids $ns_sem"
    expect 0 "gc of another user's stray set" "$tool" gc "$ns"
    contains "$tmp/out" "stray semaphore set $ns_sem" "gc names it"
    contains "$tmp/out" "another user's" "and says whose"
    sem_exists "$ns_sem" && ok "root's gc leaves another user's set" || not_ok "root removed it"
    expect 0 "its owner's gc" as_nobody "$tool" gc "$ns"
    sem_exists "$ns_sem" && not_ok "its owner's gc left it" || ok "its owner's gc removes it"
else
    echo "# skipped: another user's leftovers (needs root and setpriv)"
fi

# ---- gc of the whole host, in a private IPC namespace ----------------------------------------
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && unshare -i true 2>/dev/null; then
    abs=$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")
    absmk=$(cd "$(dirname "$mkhalf")" && pwd)/$(basename "$mkhalf")
    unshare -i sh -c "
        '$absmk' half init --lock >/dev/null &&
        '$absmk' unl unlinking >/dev/null &&
        '$absmk' nohdr partial >/dev/null &&
        '$absmk' lost stray-set >/dev/null &&
        '$absmk' old init --nomark >/dev/null &&
        '$abs' create ready 1k &&
        '$absmk' dmg damaged >/dev/null &&
        '$abs' gc &&
        echo ---- &&
        '$abs' ls -a &&
        echo ---- &&
        ipcs -s" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 0 ] && ok "gc in a private namespace" || not_ok "gc in a namespace (exit $rc)"
    contains "$tmp/out" 'removed half-made block "half"' "gc finds the half-made block by itself"
    contains "$tmp/out" 'removed leftover of an interrupted removal "unl"' "and the interrupted removal"
    contains "$tmp/out" 'removed half-made block with no header' "and the segment with no header"
    contains "$tmp/out" 'removed stray semaphore set' "and the stray semaphore set"
    contains "$tmp/out" 'block "old" (key' "and names the unmarked leftover it leaves"
    sed -n '/^----$/,/^----$/p' "$tmp/out" | sed '1d;$d' | tr -s ' ' >"$tmp/after"
    [ "$(awk '$1 == "ready" { print $10 }' "$tmp/after")" = ready ] &&
        ok "and leaves the complete block" || not_ok "complete block gone"
    [ "$(awk '$1 == "dmg" { print $10 }' "$tmp/after")" = damaged ] &&
        ok "and the damaged one" || not_ok "damaged segment gone"
    [ "$(awk '$1 == "old" { print $10 }' "$tmp/after")" = suspect ] &&
        ok "and the unmarked one" || not_ok "unmarked leftover gone"
    [ "$(grep -c . "$tmp/after")" = 4 ] && ok "nothing else is left" ||
        not_ok "left: $(cat "$tmp/after")"
    sed '1,/^----$/d' "$tmp/out" | sed '1,/^----$/d' | grep '^0x' >"$tmp/sets"
    [ "$(grep -c . "$tmp/sets")" = 1 ] && ok "one set is left: the complete block's" ||
        not_ok "sets left: $(cat "$tmp/sets")"
else
    echo "# skipped: gc of a whole namespace (needs root and unshare -i)"
fi

finish
