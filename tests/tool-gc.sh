#!/bin/sh
# tool-gc.sh - sysvshm gc removes half-made blocks of dead creators and
# interrupted removals, with their semaphore sets, and nothing else: not a
# complete block nobody is attached to, not a block still being made, not a
# damaged or foreign segment.  The garbage is made by tools/svs-mkhalf: raw
# shmget and a hand-written header, from a child process that exits.
#
# gc is given our names, so that it cannot touch what tests running at the
# same time leave on the host on purpose; a plain `gc' over the whole host
# is run in a private IPC namespace (root only).
srcdir=${srcdir:-.}
. "$srcdir/tests/tool-lib.sh"

state_of() {
    "$tool" ls | awk -v n="$1" '$1 == n { print $10 }'
}

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

[ "$(state_of "$h")" = half-made ] && ok "ls: a dead creator's INIT block is half-made" ||
    not_ok "ls: state $(state_of "$h")"
[ "$(state_of "$u")" = unlinking ] && ok "ls: an interrupted removal is unlinking" ||
    not_ok "ls: state $(state_of "$u")"
[ "$(state_of "$l")" = init ] && ok "ls: a live creator's INIT block is init" ||
    not_ok "ls: state $(state_of "$l")"

# The library passes over them: they are not blocks yet (or any more).
expect 1 "cat of a half-made block" "$tool" cat "$h"
contains "$tmp/err" "sysvshm gc" "the hint points to gc"
one_line_error "cat of a half-made block"
expect 1 "rm of an interrupted removal" "$tool" rm "$u"
contains "$tmp/err" "sysvshm gc" "the hint points to gc"

# --dry-run changes nothing.
expect 0 "gc --dry-run" "$tool" gc --dry-run "$h" "$u" "$r" "$l" "$d"
contains "$tmp/out" "would remove half-made block \"$h\"" "dry run: the half-made block"
contains "$tmp/out" "semid $h_sem" "dry run: with its semaphore set"
contains "$tmp/out" "would remove leftover of an interrupted removal \"$u\"" "dry run: the interrupted removal"
lacks "$tmp/out" "\"$r\"" "dry run: not the complete block"
lacks "$tmp/out" "\"$l\"" "dry run: not the block still being made"
lacks "$tmp/out" "\"$d\"" "dry run: not the damaged one"
shm_exists "$h_shm" && sem_exists "$h_sem" && ok "dry run removed nothing" ||
    not_ok "dry run removed something"

expect 0 "gc" "$tool" gc "$h" "$u" "$r" "$l" "$d"
contains "$tmp/out" "removed half-made block \"$h\"" "gc says what it removed"
shm_exists "$h_shm" && not_ok "half-made segment left" || ok "gc removed the half-made segment"
sem_exists "$h_sem" && not_ok "half-made semaphore set left" || ok "gc removed its semaphore set"
shm_exists "$u_shm" && not_ok "unlinking segment left" || ok "gc removed the interrupted removal"
sem_exists "$u_sem" && not_ok "unlinking semaphore set left" || ok "gc removed its semaphore set"
[ "$(state_of "$r")" = ready ] && ok "gc never removes a complete block" || not_ok "complete block gone"
shm_exists "$l_shm" && ok "gc leaves a block a live process is making" || not_ok "live INIT removed"
shm_exists "$d_shm" && ok "gc leaves a damaged segment" || not_ok "damaged segment removed"
expect 0 "the name is free again" "$tool" create "$h" 1k
expect 0 "gc with nothing to do" "$tool" gc "$h" "$r"
[ -s "$tmp/out" ] && not_ok "gc said: $(cat "$tmp/out")" || ok "gc with nothing to do is quiet"

# The live creator dies: now it is garbage.
kill "$l_pid"
wait_for 5 sh -c "[ \"\$('$tool' ls | awk -v n='$l' '\$1 == n { print \$10 }')\" = half-made ]" &&
    ok "a dead creator's block becomes half-made" || not_ok "state $(state_of "$l")"
expect 0 "gc" "$tool" gc "$l"
shm_exists "$l_shm" && not_ok "gc left it" || ok "gc removed it"

# The ipcs listing finds the same garbage.
name half2; h2=$n
mkhalf "$h2" init
expect 0 "gc with the ipcs listing" env SYSVSHM_LIST_BACKEND=ipcs "$tool" gc "$h2"
shm_exists "$h_shmid" && not_ok "gc (ipcs) left it" || ok "gc (ipcs) removed it"

# gc of the whole host, in a private IPC namespace.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && unshare -i true 2>/dev/null; then
    abs=$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")
    absmk=$(cd "$(dirname "$mkhalf")" && pwd)/$(basename "$mkhalf")
    unshare -i sh -c "
        '$absmk' half init --lock >/dev/null &&
        '$absmk' unl unlinking >/dev/null &&
        '$abs' create ready 1k &&
        '$absmk' dmg damaged >/dev/null &&
        '$abs' gc &&
        echo ---- &&
        '$abs' ls -a" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 0 ] && ok "gc in a private namespace" || not_ok "gc in a namespace (exit $rc)"
    contains "$tmp/out" 'removed half-made block "half"' "gc finds the half-made block by itself"
    contains "$tmp/out" 'removed leftover of an interrupted removal "unl"' "and the interrupted removal"
    sed '1,/^----$/d' "$tmp/out" | tr -s ' ' >"$tmp/after"
    [ "$(awk '$1 == "ready" { print $10 }' "$tmp/after")" = ready ] &&
        ok "and leaves the complete block" || not_ok "complete block gone"
    [ "$(awk '$1 == "dmg" { print $10 }' "$tmp/after")" = damaged ] &&
        ok "and the damaged one" || not_ok "damaged segment gone"
    [ "$(grep -c . "$tmp/after")" = 3 ] && ok "nothing else is left" ||
        not_ok "left: $(cat "$tmp/after")"
else
    echo "# skipped: gc of a whole namespace (needs root and unshare -i)"
fi

finish
