package io.iamlet.bpf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Assembles an eBPF program with named registers and jumps to labels: a jump's offset is computed when
 * the program is built, so adding an instruction never means re-counting hand-written distances. The
 * kernel's offsets count instructions (a 64-bit immediate load counts two) from the one after the jump.
 */
public final class Asm {
    /** A jump target, placed once with {@link #place}. */
    public record Label(String name) {
    }

    private record Pending(int at, Label target) {
    }

    private final List<Insn> code = new ArrayList<>();
    private final List<Pending> jumps = new ArrayList<>();
    private final Map<Label, Integer> placed = new HashMap<>();

    public Label label(String name) {
        return new Label(name);
    }

    /** Jumps to {@code label} land on the next instruction added. */
    public Asm place(Label label) {
        if (placed.putIfAbsent(label, code.size()) != null) {
            throw new IllegalStateException("label " + label.name() + " placed twice");
        }
        return this;
    }

    public Asm add(Insn insn) {
        code.add(insn);
        return this;
    }

    public Asm add(List<Insn> insns) {
        code.addAll(insns);
        return this;
    }

    private Asm jump(Insn insn, Label target) {
        jumps.add(new Pending(code.size(), target));
        return add(insn);
    }

    public Asm mov(Reg dst, Reg src) {
        return add(Insn.movReg(dst.number(), src.number()));
    }

    public Asm mov(Reg dst, int imm) {
        return add(Insn.movImm(dst.number(), imm));
    }

    /** 32-bit move: the upper half is zeroed, so a value with its top bit set is not sign-extended. */
    public Asm mov32(Reg dst, int imm) {
        return add(Insn.mov32(dst.number(), imm));
    }

    public Asm load64(Reg dst, long value) {
        return add(Insn.load64(dst.number(), value));
    }

    /** A map's file descriptor as the 64-bit immediate the verifier turns into the map's address. */
    public Asm loadMap(Reg dst, int mapFd) {
        return add(Insn.loadMapFd(dst.number(), mapFd));
    }

    public Asm loadWord(Reg dst, Reg base, int offset) {
        return add(Insn.loadWord(dst.number(), base.number(), offset));
    }

    public Asm loadDouble(Reg dst, Reg base, int offset) {
        return add(Insn.loadDouble(dst.number(), base.number(), offset));
    }

    public Asm storeWord(Reg base, int offset, Reg src) {
        return add(Insn.storeWord(base.number(), offset, src.number()));
    }

    public Asm storeDouble(Reg base, int offset, Reg src) {
        return add(Insn.storeDouble(base.number(), offset, src.number()));
    }

    public Asm addImm(Reg dst, int imm) {
        return add(Insn.addImm(dst.number(), imm));
    }

    public Asm orImm(Reg dst, int imm) {
        return add(Insn.orImm(dst.number(), imm));
    }

    public Asm rsh32(Reg dst, int bits) {
        return add(Insn.rsh32(dst.number(), bits));
    }

    public Asm call(int helper) {
        return add(Insn.call(helper));
    }

    public Asm exit() {
        return add(Insn.exit());
    }

    /** r0 = value; exit. */
    public Asm ret(int value) {
        return mov(Reg.R0, value).exit();
    }

    public Asm jumpIfEqual32(Reg dst, int imm, Label target) {
        return jump(Insn.jumpIfEqual32(dst.number(), imm, 0), target);
    }

    public Asm jumpIfNot32(Reg dst, int imm, Label target) {
        return jump(Insn.jumpIfNot32(dst.number(), imm, 0), target);
    }

    public Asm jumpIfGreater32(Reg dst, int imm, Label target) {
        return jump(Insn.jumpIfGreater32(dst.number(), imm, 0), target);
    }

    public Asm jumpIfEqual(Reg dst, Reg src, Label target) {
        return jump(Insn.jumpIfEqual(dst.number(), src.number(), 0), target);
    }

    public Asm jumpIfZero(Reg dst, Label target) {
        return jump(Insn.jumpIfZero(dst.number(), 0), target);
    }

    public Asm jump(Label target) {
        return jump(Insn.jumpAlways(0), target);
    }

    /** The program with every jump pointed at its label. */
    public List<Insn> build() {
        List<Insn> out = new ArrayList<>(code);
        for (Pending j : jumps) {
            Integer target = placed.get(j.target());
            if (target == null) {
                throw new IllegalStateException("jump at " + j.at() + " to label " + j.target().name() + ", which was never placed");
            }
            int offset = target - j.at() - 1;
            if (offset < Short.MIN_VALUE || offset > Short.MAX_VALUE) {
                throw new IllegalStateException("jump at " + j.at() + " to " + j.target().name() + " is too far");
            }
            out.set(j.at(), out.get(j.at()).withOffset(offset));
        }
        return List.copyOf(out);
    }
}
