package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_alloc;

/** Expressions as libnftnl objects: built from a record for a rule to carry, and read back by their kernel name. */
public final class Nftnl {
    private Nftnl() {
    }

    /** A libnftnl expression holding {@code expr}, for a rule to take over (it frees it with itself). */
    public static MemorySegment toNftnl(NftExpr expr, Arena arena) {
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
    public static NftExpr fromNftnl(MemorySegment e, Arena arena) {
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
