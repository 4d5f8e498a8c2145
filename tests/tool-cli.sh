#!/bin/sh
# tool-cli.sh - sysvshm: --help, --version, `key', and bad usage (exit 2,
# one line on stderr) for every command.  Makes no block.
srcdir=${srcdir:-.}
. "$srcdir/tests/tool-lib.sh"

expect 0 "--version" "$tool" --version
contains "$tmp/out" "sysvshm" "--version names the program"
expect 0 "--help" "$tool" --help
contains "$tmp/out" "Usage: sysvshm COMMAND" "--help shows the usage"

for c in ls stat create rm gc cat write key lock; do
    expect 0 "$c --help" "$tool" "$c" --help
    contains "$tmp/out" "Usage: sysvshm $c" "$c --help shows its usage"
    expect 0 "help $c" "$tool" help "$c"
    contains "$tmp/out" "Usage: sysvshm $c" "help $c shows its usage"
    expect 2 "$c with an unknown option" "$tool" "$c" --no-such-option
    one_line_error "$c --no-such-option"
done

expect 2 "no command" "$tool"
expect 2 "unknown command" "$tool" frobnicate
one_line_error "unknown command"
expect 2 "help for an unknown command" "$tool" help frobnicate

# Missing and extra operands.
expect 2 "ls with an operand" "$tool" ls extra
expect 2 "stat without NAME" "$tool" stat
expect 2 "stat with two names" "$tool" stat a b
expect 2 "create without SIZE" "$tool" create x
expect 2 "create --fast --nolock" "$tool" create x 1k --fast --nolock
one_line_error "create --fast --nolock"
expect 2 "create without anything" "$tool" create
one_line_error "create without anything"
expect 2 "rm without NAME" "$tool" rm
expect 2 "cat without NAME" "$tool" cat
expect 2 "write without NAME" "$tool" write
expect 2 "key without NAME" "$tool" key
expect 2 "lock without COMMAND" "$tool" lock x
expect 2 "lock without anything" "$tool" lock
expect 2 "option value missing" "$tool" cat x --offset
expect 2 "value given to a flag" "$tool" ls --json=yes

# Bad values.
for s in 0 12x -5 1kk k "" 99999999999999999999 20000000000T; do
    expect 2 "create SIZE \"$s\"" "$tool" create x "$s"
done
one_line_error "create with a bad SIZE"
for m in 0400 999 0x1 -1 01777 ""; do
    expect 2 "create -m \"$m\"" "$tool" create x 1k -m "$m"
done
expect 2 "cat --offset bad" "$tool" cat x --offset=abc
expect 2 "cat --length bad" "$tool" cat x --length -3
expect 2 "write --offset bad" "$tool" write x --offset 1z </dev/null
expect 2 "lock --timeout bad" "$tool" lock x --timeout soon true
expect 2 "lock --timeout -2" "$tool" lock x --timeout -2 true
expect 2 "cat --timeout bad" "$tool" cat x --timeout 1.5

# Bad names are bad usage, for every command that takes one.
long=$(awk 'BEGIN { while (i++ < 256) printf "n" }')
for c in stat rm cat write key gc; do
    expect 2 "$c a/b" "$tool" "$c" a/b </dev/null
    expect 2 "$c with an empty name" "$tool" "$c" "" </dev/null
    expect 2 "$c with a 256-byte name" "$tool" "$c" "$long" </dev/null
done
one_line_error "a 256-byte name"
expect 2 "create a/b" "$tool" create a/b 1k
expect 2 "lock a/b" "$tool" lock a/b true
expect 2 "rm checks every name before removing any" "$tool" rm "$base-none" a/b
one_line_error "rm with a bad name"

# key: FNV-1a 32 of the name, xor-folded to 24 bits, 'S' on top (the
# documented algorithm; computed independently with Python when it exists).
expect 0 "key MyMemory" "$tool" key MyMemory
if [ "$(cat "$tmp/out")" = 0x5376fb15 ]; then
    ok "key MyMemory is 0x5376fb15"
else
    not_ok "key MyMemory is $(cat "$tmp/out"), want 0x5376fb15"
fi
expect 0 "key /MyMemory" "$tool" key /MyMemory
if [ "$(cat "$tmp/out")" = 0x5376fb15 ]; then
    ok "a leading / is ignored"
else
    not_ok "key /MyMemory is $(cat "$tmp/out")"
fi
expect 0 "key --all" "$tool" key --all MyMemory
if [ "$(tr '\n' ' ' <"$tmp/out")" = "0x5376fb15 0x5376fb16 0x5376fb17 0x5376fb18 0x5376fb19 0x5376fb1a 0x5376fb1b 0x5376fb1c " ]; then
    ok "key --all prints the probe sequence"
else
    not_ok "key --all printed: $(tr '\n' ' ' <"$tmp/out")"
fi
if have_python; then
    k=$("$tool" key "$base-h")
    py=$(python3 -c '
import sys
h = 2166136261
for c in sys.argv[1].encode():
    h = ((h ^ c) * 16777619) & 0xffffffff
print("0x%08x" % (0x53000000 | ((h >> 24) ^ (h & 0xffffff))))' "$base-h")
    if [ "$k" = "$py" ]; then
        ok "key agrees with an independent FNV-1a"
    else
        not_ok "key says $k, Python says $py"
    fi
fi

finish
