/**
 * The bpf(2) library over FFM: the commands iamlet uses (load any program, link, pin, query), and an
 * assembler for the few instruction forms its programs need. No clang, no libbpf. What the programs do is
 * the caller's concern (the metadata redirect's program lives in the redirect module).
 */
package io.iamlet.bpf;
