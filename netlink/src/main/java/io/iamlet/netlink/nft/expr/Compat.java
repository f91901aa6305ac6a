package io.iamlet.netlink.nft.expr;


import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_set_u32;

/**
 * An xtables compat expression, as iptables-nft writes what has no native form: a target ({@code -j DNAT})
 * or a match ({@code -m tcp}), named with its revision and the raw info payload the xtables module reads.
 * NFTNL_EXPR_TG_* and NFTNL_EXPR_MT_* number the attributes alike.
 */
public record Compat(Kind kind, String xtName, int revision, Bytes info) implements NftExpr {
    private static final short NAME = 1, REV = 2, INFO = 3;

    public enum Kind {
        TARGET, MATCH;

        final String expression = name().toLowerCase(Locale.ROOT);
    }

    /** {@code -j NAME} at revision {@code revision} with its info payload. */
    public static Compat target(String name, int revision, Bytes info) {
        return new Compat(Kind.TARGET, name, revision, info);
    }

    public String name() {
        return kind.expression;
    }

    public void encode(MemorySegment e, Arena arena) {
        Attrs.setString(e, NAME, xtName, arena);
        nftnl_expr_set_u32(e, REV, revision);
        // libnftnl keeps the info pointer itself and frees it with the expression.
        Attrs.giveData(e, INFO, info);
    }

    static Compat decode(Kind kind, MemorySegment e, Arena arena) {
        return new Compat(kind, Attrs.string(e, NAME), Attrs.u32(e, REV), Attrs.data(e, INFO, arena));
    }
}
