package io.iamlet.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * One eBPF instruction (struct bpf_insn): opcode, destination and source registers, offset, immediate.
 * Only the few forms iamlet's programs use; a 64-bit immediate load takes two slots. Programs are written
 * with {@link Asm}, which names registers and resolves jumps to labels.
 */
public record Insn(int code, int dst, int src, int off, int imm) {
    public static final int SIZE = 8;

    // Opcodes: class | size/op | source.
    private static final int LDX_MEM_W = 0x61;
    private static final int LDX_MEM_DW = 0x79;
    private static final int STX_MEM_DW = 0x7b;
    private static final int ALU64_ADD_K = 0x07;
    private static final int ALU32_RSH_K = 0x74;
    private static final int ALU64_OR_K = 0x47;
    private static final int JMP32_JGT_K = 0x26;
    private static final int JMP_JEQ_K = 0x15;
    private static final int JA = 0x05;
    /** The source field of a 64-bit immediate load whose value is a map's file descriptor. */
    private static final int PSEUDO_MAP_FD = 1;
    private static final int STX_MEM_W = 0x63;
    private static final int MOV64_X = 0xbf;
    private static final int MOV64_K = 0xb7;
    private static final int MOV32_K = 0xb4;
    private static final int JMP32_JNE_K = 0x56;
    private static final int JMP32_JEQ_K = 0x16;
    private static final int JMP_JEQ_X = 0x1d;
    private static final int LD_IMM64 = 0x18;
    private static final int CALL = 0x85;
    private static final int EXIT = 0x95;

    /** The same instruction with another offset: a jump's distance, known once its target is placed. */
    public Insn withOffset(int offset) {
        return new Insn(code, dst, src, offset, imm);
    }

    public static Insn loadWord(int dst, int base, int offset) {
        return new Insn(LDX_MEM_W, dst, base, offset, 0);
    }

    public static Insn loadDouble(int dst, int base, int offset) {
        return new Insn(LDX_MEM_DW, dst, base, offset, 0);
    }

    public static Insn storeDouble(int base, int offset, int src) {
        return new Insn(STX_MEM_DW, base, src, offset, 0);
    }

    public static Insn addImm(int dst, int imm) {
        return new Insn(ALU64_ADD_K, dst, 0, 0, imm);
    }

    public static Insn orImm(int dst, int imm) {
        return new Insn(ALU64_OR_K, dst, 0, 0, imm);
    }

    public static Insn rsh32(int dst, int bits) {
        return new Insn(ALU32_RSH_K, dst, 0, 0, bits);
    }

    public static Insn jumpIfGreater32(int dst, int imm, int skip) {
        return new Insn(JMP32_JGT_K, dst, 0, skip, imm);
    }

    public static Insn jumpIfZero(int dst, int skip) {
        return new Insn(JMP_JEQ_K, dst, 0, skip, 0);
    }

    public static Insn jumpAlways(int skip) {
        return new Insn(JA, 0, 0, skip, 0);
    }

    public static List<Insn> loadMapFd(int dst, int mapFd) {
        return List.of(new Insn(LD_IMM64, dst, PSEUDO_MAP_FD, 0, mapFd), new Insn(0, 0, 0, 0, 0));
    }

    public static Insn storeWord(int base, int offset, int src) {
        return new Insn(STX_MEM_W, base, src, offset, 0);
    }

    public static Insn movReg(int dst, int src) {
        return new Insn(MOV64_X, dst, src, 0, 0);
    }

    public static Insn movImm(int dst, int imm) {
        return new Insn(MOV64_K, dst, 0, 0, (int) imm);
    }

    /** 32-bit move: the upper half is zeroed, so a value with its top bit set is not sign-extended. */
    public static Insn mov32(int dst, int imm) {
        return new Insn(MOV32_K, dst, 0, 0, imm);
    }

    /** Jumps {@code skip} instructions ahead when the low 32 bits of {@code dst} differ from {@code imm}. */
    public static Insn jumpIfNot32(int dst, int imm, int skip) {
        return new Insn(JMP32_JNE_K, dst, 0, skip, imm);
    }

    /** Jumps {@code skip} instructions ahead when the low 32 bits of {@code dst} equal {@code imm}. */
    public static Insn jumpIfEqual32(int dst, int imm, int skip) {
        return new Insn(JMP32_JEQ_K, dst, 0, skip, imm);
    }

    public static Insn jumpIfEqual(int dst, int src, int skip) {
        return new Insn(JMP_JEQ_X, dst, src, skip, 0);
    }

    public static List<Insn> load64(int dst, long value) {
        return List.of(new Insn(LD_IMM64, dst, 0, 0, (int) value), new Insn(0, 0, 0, 0, (int) (value >>> 32)));
    }

    public static Insn call(int helper) {
        return new Insn(CALL, 0, 0, 0, helper);
    }

    public static Insn exit() {
        return new Insn(EXIT, 0, 0, 0, 0);
    }

    /** The instructions as the kernel reads them (little-endian hosts only, as the program's constants assume). */
    public static byte[] encode(List<Insn> program) {
        ByteBuffer out = ByteBuffer.allocate(program.size() * SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (Insn i : program) {
            out.put((byte) i.code).put((byte) ((i.src << 4) | (i.dst & 0xf))).putShort((short) i.off).putInt(i.imm);
        }
        return out.array();
    }
}
