package io.iamlet.bpf;

/**
 * The eBPF registers by their role in the calling convention: R0 holds return values, R1 to R5 carry a
 * helper's arguments (and are clobbered by the call), R6 to R9 survive calls, R10 is the read-only frame pointer.
 */
public enum Reg {
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10;

    /** The frame pointer: the program's 512-byte stack lies below it. */
    public static final Reg FP = R10;

    public int number() {
        return ordinal();
    }
}
