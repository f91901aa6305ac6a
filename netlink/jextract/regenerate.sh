#!/usr/bin/env bash
# The libnftnl bindings in io.iamlet.netlink.nftnl are written by hand in the shape jextract emits: jextract
# cannot be downloaded on our build machines. This script keeps them honest.
#
#   regenerate.sh --check   every function listed in headers.txt is bound, and nothing else; where jextract is
#                           on PATH, also runs it into a temporary directory and checks that it generates every
#                           function we bind with the same name (so a switch to generated code is a drop-in)
#   regenerate.sh           where jextract is on PATH: replaces the hand-written classes with generated ones
#                           (review the diff; the header comments then say "generated")
#
# Needs libnftnl-dev (the headers) for jextract.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../src/main/java"
pkg=io/iamlet/netlink/nftnl
include=${NFTNL_INCLUDE:-/usr/include}

listed() { grep -v '^#' "$here/headers.txt" | awk 'NF { for (i = 3; i <= NF; i++) print $i }' | sort -u; }
bound() { grep -oh 'findOrThrow("[a-z_0-9]*")' "$src/$pkg"/*.java | sed 's/findOrThrow("\(.*\)")/\1/' | sort -u; }

generate() { # $1: output directory
  grep -v '^#' "$here/headers.txt" | while read -r cls header functions; do
    [ -n "$cls" ] || continue
    args=()
    for f in $functions; do args+=(--include-function "$f"); done
    jextract --target-package io.iamlet.netlink.nftnl --header-class-name "$cls" --library :libnftnl.so.11 \
             -I "$include" --output "$1" "${args[@]}" "$include/$header"
  done
}

if [ "${1:-}" = "--check" ]; then
  if ! diff <(listed) <(bound); then
    echo "the bindings and headers.txt disagree (< only listed, > only bound)" >&2
    exit 1
  fi
  echo "bindings: the $(bound | wc -l) functions of headers.txt, no more"
  if command -v jextract >/dev/null; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    generate "$tmp"
    missing=0
    for f in $(bound); do
      grep -rqw "$f" "$tmp/$pkg" || { echo "jextract generates no $f" >&2; missing=1; }
    done
    [ "$missing" = 0 ] || exit 1
    echo "jextract: generates every bound function"
  else
    echo "jextract is not on PATH: the comparison with a real run was skipped"
  fi
  exit 0
fi

command -v jextract >/dev/null || { echo "jextract is not on PATH (see https://jdk.java.net/jextract/)" >&2; exit 1; }
generate "$src"
echo "regenerated into $src/$pkg"
