package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_alloc;

/**
 * The nf_tables expressions iamlet writes or must recognise when reading a chain back, one record per kind,
 * each with its libnftnl encoding beside it. Anything else is read as {@link Other}, so a rule that is not
 * ours is never mistaken for one of ours. The records keep the kernel's numbers, since rules read back may
 * carry any; their factories ({@code Meta.load(Meta.Key.IIFNAME, Reg.R1)}) are the typed way to write them.
 */
public sealed interface NftExpr permits Meta, Cmp, Payload, Immediate, Verdict, Counter, Nat, Compat, Reject, Other {
    /** Kernel expression name ("meta", "cmp", ...). */
    String name();

    /** Sets this expression's attributes on the libnftnl expression {@code e}; strings and data come from {@code arena}. */
    void encode(MemorySegment e, Arena arena);

    /** A libnftnl expression holding {@code expr}, for a rule to take over (it frees it with itself). */
    static MemorySegment toNftnl(NftExpr expr, Arena arena) {
        if (expr instanceof Other other) {
            throw new IllegalArgumentException("cannot build expression '" + other.name() + "': iamlet only reads it");
        }
        MemorySegment e = nftnl_expr_alloc(arena.allocateFrom(expr.name()));
        if (e.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("libnftnl does not know expression '" + expr.name() + "'");
        }
        expr.encode(e, arena);
        return e;
    }

    /** The expression a libnftnl expression holds; a kind (or a form, such as "meta set") iamlet does not write is {@link Other}. */
    static NftExpr fromNftnl(MemorySegment e, Arena arena) {
        String name = Attrs.name(e);
        return switch (name) {
            case Meta.NAME -> Meta.decode(e);
            case Cmp.NAME -> Cmp.decode(e, arena);
            case Payload.NAME -> Payload.decode(e);
            case Immediate.NAME -> Verdict.holdsVerdict(e) ? Verdict.decode(e) : Immediate.decode(e, arena);
            case Counter.NAME -> Counter.decode(e);
            case Nat.NAME -> Nat.decode(e);
            case "target" -> Compat.decode(Compat.Kind.TARGET, e, arena);
            case "match" -> Compat.decode(Compat.Kind.MATCH, e, arena);
            case Reject.NAME -> Reject.decode(e);
            default -> new Other(name);
        };
    }
}
