#!/usr/bin/env bash
# Regenerates the libnftnl bindings in io.iamlet.netlink.nftnl with jextract (JDK 22+ jextract build).
# jextract cannot be downloaded on our build machines, so the generated classes are committed;
# run this where jextract is on PATH after changing headers.txt, then review the diff.
# Needs libnftnl-dev (the headers) installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../src/main/java"
command -v jextract >/dev/null || { echo "jextract is not on PATH (see https://jdk.java.net/jextract/)" >&2; exit 1; }
include=${NFTNL_INCLUDE:-/usr/include}
grep -v '^#' "$here/headers.txt" | while read -r cls header functions; do
  [ -n "$cls" ] || continue
  args=()
  for f in $functions; do args+=(--include-function "$f"); done
  jextract --target-package io.iamlet.netlink.nftnl \
           --header-class-name "$cls" \
           --library :libnftnl.so.11 \
           -I "$include" \
           --output "$out" \
           "${args[@]}" \
           "$include/$header"
done
echo "regenerated into $out/io/iamlet/netlink/nftnl"
