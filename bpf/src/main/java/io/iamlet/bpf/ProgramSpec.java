package io.iamlet.bpf;

/**
 * What BPF_PROG_LOAD needs to load any program, as cilium/ebpf's ProgramSpec names it.
 *
 * @param type         the program type (BPF_PROG_TYPE_*)
 * @param attachType   the expected attach type (BPF_*), for program types that need one
 * @param name         the name the kernel shows (at most 15 characters)
 * @param license      a GPL-compatible licence unlocks the GPL-only helpers
 * @param instructions the program as the kernel reads it (see {@link Insn#encode})
 */
public record ProgramSpec(int type, int attachType, String name, String license, byte[] instructions) {
    public ProgramSpec {
        if (name.length() > 15) {
            throw new IllegalArgumentException("a program name has at most 15 characters, not '" + name + "'");
        }
        instructions = instructions.clone();
    }

    @Override
    public byte[] instructions() {
        return instructions.clone();
    }
}
