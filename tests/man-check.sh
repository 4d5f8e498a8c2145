#!/bin/sh
# man-check.sh - the manual pages agree with the public header.
#
# For every function declared SYSVSHM_API in lib/sysvshm.h:
#  - man/<function>.3 exists, as a page or a one-line `.so' link to one;
#  - the page that documents it names it under NAME, shows its prototype
#    exactly as the header declares it under SYNOPSIS, and lists under
#    ERRORS every errno named in the header comment above the declaration
#    (from the word "errno" on, if the comment has it: before it, a comment
#    may mention what other functions return);
# and for every page:
#  - ERRORS names no errno that the header gives none of its functions;
#  - a `.so' link is one line and points at a page that is not a link;
#  - it is listed in a local.mk, so that it is installed and distributed;
#  - every sysvshm_*(3) it refers to exists;
#  - every SYSVSHM_ macro of the header appears on some page;
#  - mandoc -T lint -W warning is quiet (skipped without mandoc);
#  - `man -l' renders it, links included, with nothing on stderr, and
#    `groff -ww -z -man' has no warning (each skipped without the program).
#
# Plain automake test: exit 0 pass, 1 fail, 99 hard error.  POSIX sh, sed,
# grep and awk only.

srcdir=${srcdir:-$(dirname "$0")/..}
hdr=$srcdir/lib/sysvshm.h
mandir=$srcdir/man

if [ ! -f "$hdr" ] || [ ! -d "$mandir" ]; then
    echo "man-check: $hdr or $mandir not found" >&2
    exit 99
fi

tmp=${TMPDIR:-/tmp}/man-check.$$
rm -rf "$tmp"
mkdir "$tmp" || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 1' HUP INT TERM

status=0

# Does word $1 (letters, digits, underscores) occur in the text on stdin?
# (grep -w is not POSIX.)
has_word() {
    grep -E "(^|[^A-Za-z0-9_])$1([^A-Za-z0-9_]|\$)" >/dev/null
}

fail() {
    echo "man-check: FAIL: $*"
    status=1
}

# One line per exported function: NAME <tab> ERRNOS <tab> PROTOTYPE, the
# errnos being those named in the last comment block before the declaration,
# the prototype with SYSVSHM_API stripped and spacing normalised.
awk '
function norm(s) {
    gsub(/[ \t]+/, " ", s)
    gsub(/ ?[*] ?/, "*", s); gsub(/ ?[(] ?/, "(", s); gsub(/ ?[)] ?/, ")", s)
    gsub(/ ?, ?/, ",", s); gsub(/ ?; ?/, ";", s)
    sub(/^ /, "", s); sub(/ $/, "", s)
    return s
}
function errnos(s,    n, i, w, seen, out) {
    # The error list starts at the word "errno"; before it, a comment may
    # mention what other functions return ("sysvshm_lock fails ENOTSUP").
    if ((i = index(s, "errno")) > 0)
        s = substr(s, i)
    n = split(s, w, "[^A-Z0-9_]+")
    out = ""
    for (i = 1; i <= n; i++)
        if (w[i] ~ /^E[A-Z0-9]+$/ && !(w[i] in seen)) {
            seen[w[i]] = 1
            out = out " " w[i]
        }
    return out == "" ? "-" : substr(out, 2)
}
/^[ \t]*\/\*/ { incom = 1; com = "" }
incom {
    com = com " " $0
    if ($0 ~ /\*\//) { incom = 0; last = com }
    next
}
/^SYSVSHM_API[ \t]/ { indecl = 1; proto = "" }
indecl {
    line = $0
    gsub(/\/\*.*\*\//, "", line)
    proto = proto " " line
    if (line ~ /;/) {
        indecl = 0
        sub(/^ *SYSVSHM_API[ \t]+/, "", proto)
        sub(/;.*/, ";", proto)
        fn = proto
        sub(/[ \t]*\(.*/, "", fn)
        sub(/.*[ \t*]/, "", fn)
        printf "%s\t%s\t%s\n", fn, errnos(last), norm(proto)
        last = ""
    }
    next
}
' "$hdr" >"$tmp/funcs" || exit 99

nfuncs=$(wc -l <"$tmp/funcs")
nfuncs=$((nfuncs + 0))
if [ "$nfuncs" -eq 0 ]; then
    echo "man-check: no SYSVSHM_API declarations found in $hdr" >&2
    exit 99
fi

# The text of section $2 of page $1, from its .SH line to the next one.
section() {
    awk -v want="$2" '
    /^\.SH[ \t]/ {
        t = $0
        sub(/^\.SH[ \t]+/, "", t); gsub(/"/, "", t)
        on = (t == want)
        next
    }
    on
    ' "$1"
}

# The SYNOPSIS of page $1 as plain text on one line, spacing normalised as
# the prototypes are: macro arguments unquoted, .B and .I arguments joined
# with spaces, the alternating-font macros' arguments joined without.
synopsis() {
    section "$1" SYNOPSIS | awk '
    function norm(s) {
        gsub(/[ \t]+/, " ", s)
        gsub(/ ?[*] ?/, "*", s); gsub(/ ?[(] ?/, "(", s); gsub(/ ?[)] ?/, ")", s)
        gsub(/ ?, ?/, ",", s); gsub(/ ?; ?/, ";", s)
        sub(/^ /, "", s); sub(/ $/, "", s)
        return s
    }
    function args(line, sep,    out, q, first) {
        out = ""; first = 1
        while (line != "") {
            if (line ~ /^[ \t]/) { sub(/^[ \t]+/, "", line); continue }
            if (!first) out = out sep
            first = 0
            if (substr(line, 1, 1) == "\"") {
                line = substr(line, 2)
                q = index(line, "\"")
                if (q == 0) { out = out line; line = "" }
                else { out = out substr(line, 1, q - 1); line = substr(line, q + 1) }
            } else {
                match(line, /^[^ \t]+/)
                out = out substr(line, 1, RLENGTH)
                line = substr(line, RLENGTH + 1)
            }
        }
        return out
    }
    /^\.(B|I)[ \t]/ { m = $0; sub(/^\.[A-Z]+[ \t]*/, "", m); text = text " " args(m, " "); next }
    /^\.(BI|BR|IB|IR|RB|RI)[ \t]/ { m = $0; sub(/^\.[A-Z]+[ \t]*/, "", m); text = text " " args(m, ""); next }
    /^\./ { next }
    { text = text " " $0 }
    END {
        gsub(/\\&/, "", text); gsub(/\\-/, "-", text); gsub(/\\\(dq/, "\"", text)
        gsub(/\\e/, "\\", text)
        print norm(text)
    }'
}

# Errno names in a text on stdin, one per line.
errnos_in() {
    awk '{
        n = split($0, w, "[^A-Z0-9_]+")
        for (i = 1; i <= n; i++) if (w[i] ~ /^E[A-Z0-9]+$/) print w[i]
    }' | sort -u
}

is_link() {
    sed -n '1{/^\.so[[:blank:]]/p;}' "$1" | grep . >/dev/null
}

# The page a link points at, as a path in $mandir.
link_target() {
    t=$(sed -n '1s/^\.so[[:blank:]]*//p' "$1")
    echo "$mandir/${t##*/}"
}

# ---- every page --------------------------------------------------------------
npages=0
for page in "$mandir"/*.[1-9]; do
    [ -f "$page" ] || continue
    npages=$((npages + 1))
    base=${page##*/}
    if ! grep "man/$base" "$srcdir"/*/local.mk >/dev/null 2>&1; then
        fail "man/$base is not listed in any local.mk (dist_man_MANS)"
    fi
    if is_link "$page"; then
        target=$(link_target "$page")
        if [ "$(wc -l <"$page")" -ne 1 ]; then
            fail "man/$base: a .so link must be one line"
        fi
        if [ ! -f "$target" ]; then
            fail "man/$base: links to ${target##*/}, which does not exist"
        elif is_link "$target"; then
            fail "man/$base: links to ${target##*/}, which is itself a link"
        fi
        continue
    fi
    for ref in $(awk '{
            s = $0
            while (match(s, /sysvshm_[a-z0-9_]+ *\(3\)/)) {
                r = substr(s, RSTART, RLENGTH); sub(/ *\(3\)$/, "", r); print r
                s = substr(s, RSTART + RLENGTH)
            }
        }' "$page" | sort -u); do
        [ -f "$mandir/$ref.3" ] || fail "man/$base: refers to $ref(3), which has no page"
    done
done

# ---- every function ------------------------------------------------------------
: >"$tmp/documented"
while IFS='	' read -r fn errs proto; do
    page=$mandir/$fn.3
    if [ ! -f "$page" ]; then
        fail "$fn: no page man/$fn.3"
        continue
    fi
    if is_link "$page"; then
        page=$(link_target "$page")
        [ -f "$page" ] || continue # reported above
    fi
    base=${page##*/}
    printf '%s\t%s\n' "$base" "$errs" >>"$tmp/documented"

    for s in NAME SYNOPSIS DESCRIPTION "RETURN VALUE" ERRORS "SEE ALSO"; do
        if ! grep "^\.SH \"*$s\"*\$" "$page" >/dev/null; then
            fail "man/$base: no $s section (documents $fn)"
        fi
    done
    if ! section "$page" NAME | has_word "$fn"; then
        fail "man/$base: $fn is not under NAME"
    fi
    syn=$(synopsis "$page")
    case $syn in
    *"$proto"*) ;;
    *) fail "man/$base: SYNOPSIS does not show $fn as the header declares it: $proto" ;;
    esac
    section "$page" ERRORS >"$tmp/errors"
    [ "$errs" = - ] && errs=
    for e in $errs; do
        if ! has_word "$e" <"$tmp/errors"; then
            fail "man/$base: $e (header comment of $fn) is not under ERRORS"
        fi
    done
done <"$tmp/funcs"

# ERRORS names only errnos the header gives the functions of the page.
for base in $(cut -f1 "$tmp/documented" | sort -u); do
    awk -F '	' -v b="$base" '$1 == b { print $2 }' "$tmp/documented" |
        tr ' ' '\n' | grep . | sort -u >"$tmp/allowed"
    for e in $(section "$mandir/$base" ERRORS | errnos_in); do
        if ! grep -x "$e" "$tmp/allowed" >/dev/null; then
            fail "man/$base: $e is under ERRORS, but no header comment of its functions names it"
        fi
    done
done

# ---- every macro -------------------------------------------------------------
for m in $(sed -n 's/^#define[[:blank:]]\{1,\}\(SYSVSHM_[A-Z0-9_]*\).*/\1/p' "$hdr" | sort -u); do
    case $m in SYSVSHM_H | SYSVSHM_API) continue ;; esac
    if ! cat "$mandir"/*.3 | has_word "$m"; then
        fail "$m (lib/sysvshm.h) appears on no page"
    fi
done

# ---- mandoc ------------------------------------------------------------------
if command -v mandoc >/dev/null 2>&1; then
    for page in "$mandir"/*.[1-9]; do
        [ -f "$page" ] || continue
        is_link "$page" && continue # mandoc flags every .so as fragile
        out=$(mandoc -T lint -W warning "$page" 2>&1)
        rc=$?
        if [ $rc -ne 0 ] || [ -n "$out" ]; then
            fail "mandoc -T lint -W warning ${page##*/} (exit $rc):"
            echo "$out"
        fi
    done
else
    echo "man-check: mandoc not found, lint skipped"
fi

# ---- rendering -----------------------------------------------------------------
# Lay the pages out as they are installed (man1/, man3/), so that a `.so
# man3/x.3' link resolves as it does under $(mandir).
mkdir "$tmp/man1" "$tmp/man3" || exit 99
for page in "$mandir"/*.[1-9]; do
    [ -f "$page" ] || continue
    base=${page##*/}
    cp "$page" "$tmp/man${base##*.}/" || exit 99
done
# Use a program only if it handles a trivial page: not every man has -l.
# man_l PAGE: render PAGE (relative to $tmp) with man -l, to stdout.
# man-db's seccomp sandbox fails in some containers: it is not what is
# tested here.
man_l() {
    (cd "$tmp" && MANPAGER=cat PAGER=cat MANWIDTH=80 MAN_DISABLE_SECCOMP=1 man -l "$1")
}
printf '.TH PROBE 1\n.SH NAME\nprobe \\- probe\n' >"$tmp/probe.1"
have_man=no
have_groff=no
man_l probe.1 2>/dev/null | grep probe >/dev/null && have_man=yes
(cd "$tmp" && groff -ww -z -man probe.1 >/dev/null 2>&1) && have_groff=yes
for page in "$tmp"/man1/* "$tmp"/man3/*; do
    [ -f "$page" ] || continue
    rel=${page#"$tmp"/}
    if [ $have_man = yes ]; then
        man_l "$rel" >"$tmp/render.out" 2>"$tmp/render.err"
        rc=$?
        # The rendered page starts with TITLE(SECTION) of the page, or of
        # the page a link points at.
        target=$page
        so=$(sed -n 's/^\.so //p' "$page" | sed -n 1p)
        [ -n "$so" ] && target=$tmp/$so
        title=$(sed -n 's/^\.TH \([^ ]*\) \([0-9]\).*/\1(\2)/p' "$target" 2>/dev/null | sed -n 1p)
        if [ $rc -ne 0 ] || [ -s "$tmp/render.err" ] || [ "$(wc -l <"$tmp/render.out")" -lt 20 ] ||
            ! sed -n 1p "$tmp/render.out" | grep -F "$title" >/dev/null; then
            fail "man -l $rel (exit $rc) does not render as $title:"
            sed -n 1,5p "$tmp/render.err" "$tmp/render.out"
        fi
    fi
    if [ $have_groff = yes ]; then
        out=$(cd "$tmp" && groff -ww -z -t -man "$rel" 2>&1)
        if [ -n "$out" ]; then
            fail "groff -ww -z -man $rel warns:"
            echo "$out"
        fi
    fi
done
# `man sysvshm' is the tool; the library's overview is libsysvshm(3) (as
# libcurl's is libcurl(3)), with sysvshm(3) a link to it; no page sends the
# reader to sysvshm(3) for the library.
if [ "$(sed -n 1p "$mandir/sysvshm.3")" != ".so man3/libsysvshm.3" ]; then
    fail "man/sysvshm.3 must be a link to man3/libsysvshm.3"
fi
if ! sed -n '/^\.SH NAME/{n;p;}' "$mandir/libsysvshm.3" | grep '^libsysvshm' >/dev/null; then
    fail "man/libsysvshm.3: NAME must start with libsysvshm"
fi
for page in "$mandir"/*.[0-9]; do
    if grep '^\.BR sysvshm (3)' "$page" >/dev/null; then
        fail "$(basename "$page"): refers to sysvshm(3); the overview is libsysvshm(3)"
    fi
done

[ $have_man = yes ] || echo "man-check: no man -l here, rendering check skipped"
[ $have_groff = yes ] || echo "man-check: no groff here, groff -ww check skipped"

if [ $status -eq 0 ]; then
    echo "man-check: $nfuncs functions, $npages pages: OK"
fi
exit $status
