#!/bin/sh
# pgdrill's stand-in for pg_dump under failure injection (checks/files.py, `failures:
# [dump-fails]`): it writes the start of a dump where pg_dump would write it, then fails the way
# pg_dump does when the server goes away halfway through. The learner's script must notice.
: > "$PGDRILL_STANDIN_MARK/pg_dump-ran" 2>/dev/null
out=""
fmt=p
while [ $# -gt 0 ]; do
    case "$1" in
        -f|--file) out="$2"; shift ;;
        --file=*) out="${1#--file=}" ;;
        -f*) out="${1#-f}" ;;
        -F|--format) fmt="$2"; shift ;;
        --format=*) fmt="${1#--format=}" ;;
        -F*) fmt="${1#-F}" ;;
    esac
    shift
done
partial() {
    case "$fmt" in
        c|custom|t|tar) printf 'PGDMP\001\020\000\004\010\001\001' ;;
        *) printf -- '--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n\nCOPY public.orders (id) FROM stdin;\n1\n2\n' ;;
    esac
}
case "$fmt" in
    d|directory) mkdir -p "$out" && partial > "$out/toc.dat" ;;
    *) if [ -n "$out" ] && [ "$out" != "-" ]; then partial > "$out"; else partial; fi ;;
esac
echo 'pg_dump: error: Dumping the contents of table "orders" failed: PQgetResult() failed.' >&2
echo 'pg_dump: detail: Error message from server: server closed the connection unexpectedly' >&2
exit 1
