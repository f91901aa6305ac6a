package io.iamlet.netlink.nft.expr;

import io.iamlet.netlink.ffm.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.nftnl.expr_h.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Reading and writing the attributes of a libnftnl expression, as every kind does. Attribute numbers are each
 * kind's own, counted from NFTNL_EXPR_BASE = 1 as in {@code <libnftnl/expr.h>}; 0 is the name.
 */
final class Attrs {
    private static final short NAME = 0;

    private Attrs() {
    }

    static String name(MemorySegment e) {
        return string(e, NAME);
    }

    static boolean has(MemorySegment e, short attr) {
        return nftnl_expr_is_set(e, attr);
    }

    static int u32(MemorySegment e, short attr) {
        return nftnl_expr_get_u32(e, attr);
    }

    /** An attribute left out when it is 0, as nat's unused registers and flags are. */
    static int u32OrZero(MemorySegment e, short attr) {
        return has(e, attr) ? u32(e, attr) : 0;
    }

    static void setUnlessZero(MemorySegment e, short attr, int value) {
        if (value != 0) {
            nftnl_expr_set_u32(e, attr, value);
        }
    }

    static String string(MemorySegment e, short attr) {
        MemorySegment pointer = nftnl_expr_get_str(e, attr);
        return pointer.equals(MemorySegment.NULL) ? null : pointer.getString(0);
    }

    static void setString(MemorySegment e, short attr, String value, Arena arena) {
        nftnl_expr_set_str(e, attr, arena.allocateFrom(value));
    }

    static Bytes data(MemorySegment e, short attr, Arena arena) {
        if (!has(e, attr)) {
            return Bytes.EMPTY;
        }
        MemorySegment length = arena.allocate(JAVA_INT);
        return Bytes.copyOf(nftnl_expr_get(e, attr, length), length.get(JAVA_INT, 0));
    }

    /** Data libnftnl copies in. */
    static void setData(MemorySegment e, short attr, Bytes data, Arena arena) {
        nftnl_expr_set(e, attr, arena.allocateFrom(JAVA_BYTE, data.value()), data.length());
    }

    /** Data libnftnl keeps as it is and frees with the expression, so it must come from malloc. */
    static void giveData(MemorySegment e, short attr, Bytes data) {
        MemorySegment owned = Libc.malloc(data.length());
        MemorySegment.copy(data.value(), 0, owned, JAVA_BYTE, 0, data.length());
        nftnl_expr_set(e, attr, owned, data.length());
    }
}
