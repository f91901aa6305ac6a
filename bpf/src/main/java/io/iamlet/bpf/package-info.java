/**
 * The eBPF metadata redirect: a cgroup connect program that sends pods' connections to the metadata
 * service to the agent, loaded, attached, pinned and read back through bpf(2) over FFM. No clang, no
 * libbpf: the program is a few instructions assembled here.
 */
package io.iamlet.bpf;
