package io.iamlet.netlink.nft;

import io.iamlet.netlink.ffm.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.iamlet.netlink.nftnl.chain_h.*;
import static io.iamlet.netlink.nftnl.expr_h.*;
import static io.iamlet.netlink.nftnl.rule_h.*;
import static io.iamlet.netlink.nftnl.table_h.*;
import static io.iamlet.netlink.nftnl.udata_h.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Turns the records of this package into libnftnl objects and netlink payloads, and parsed kernel
 * messages back into records. libnftnl objects are malloc'ed by the library and freed here before
 * returning; strings and data are copied in, so nothing Java allocated outlives a call.
 */
public final class NftnlCodec {
    // enum nftnl_table_attr / nftnl_chain_attr / nftnl_rule_attr (libnftnl/*.h)
    private static final short TABLE_NAME = 0;
    private static final short TABLE_FAMILY = 1;
    private static final short TABLE_USERDATA = 5;
    private static final short CHAIN_NAME = 0;
    private static final short CHAIN_FAMILY = 1;
    private static final short CHAIN_TABLE = 2;
    private static final short CHAIN_HOOKNUM = 3;
    private static final short CHAIN_PRIO = 4;
    private static final short CHAIN_TYPE = 10;
    private static final short RULE_FAMILY = 0;
    private static final short RULE_TABLE = 1;
    private static final short RULE_CHAIN = 2;
    private static final short RULE_HANDLE = 3;
    private static final short RULE_USERDATA = 7;
    // Expression attributes: NFTNL_EXPR_NAME = 0, then each kind's own numbering from NFTNL_EXPR_BASE = 1,
    // named as in <libnftnl/expr.h>.
    private static final short EXPR_NAME = 0;
    private static final short META_KEY = 1, META_DREG = 2, META_SREG = 3;
    private static final short CMP_SREG = 1, CMP_OP = 2, CMP_DATA = 3;
    private static final short PAYLOAD_DREG = 1, PAYLOAD_BASE = 2, PAYLOAD_OFFSET = 3, PAYLOAD_LEN = 4, PAYLOAD_SREG = 5;
    private static final short IMM_DREG = 1, IMM_DATA = 2, IMM_VERDICT = 3, IMM_CHAIN = 4;
    private static final short CTR_PACKETS = 1, CTR_BYTES = 2;
    private static final short NAT_TYPE = 1, NAT_FAMILY = 2, NAT_REG_ADDR_MIN = 3, NAT_REG_ADDR_MAX = 4,
            NAT_REG_PROTO_MIN = 5, NAT_REG_PROTO_MAX = 6, NAT_FLAGS = 7;
    private static final short REJECT_TYPE = 1, REJECT_CODE = 2;
    /** NFTNL_EXPR_TG_* and NFTNL_EXPR_MT_* share the numbering. */
    private static final short COMPAT_NAME = 1, COMPAT_REV = 2, COMPAT_INFO = 3;
    /** NFT_USERDATA_MAXLEN: the kernel refuses larger userdata. */
    private static final int USERDATA_MAX = 256;
    private static final byte UDATA_COMMENT = 0;
    private static final int NFT_REG_VERDICT = 0;

    private NftnlCodec() {
    }

    // ---- building ----

    /** Writes the table's attributes into the message at {@code nlh}; userdata only when asked. */
    public static void tablePayload(MemorySegment nlh, NftTable table, boolean withComment) {
        MemorySegment t = nftnl_table_alloc();
        try (Arena arena = Arena.ofConfined()) {
            nftnl_table_set_str(t, TABLE_NAME, arena.allocateFrom(table.name()));
            nftnl_table_set_u32(t, TABLE_FAMILY, table.family());
            if (withComment && table.comment() != null) {
                Bytes userdata = commentUserdata(table.comment());
                nftnl_table_set_data(t, TABLE_USERDATA, arena.allocateFrom(JAVA_BYTE, userdata.value()), userdata.length());
            }
            nftnl_table_nlmsg_build_payload(nlh, t);
        } finally {
            nftnl_table_free(t);
        }
    }

    public static void chainPayload(MemorySegment nlh, NftChain chain) {
        MemorySegment c = nftnl_chain_alloc();
        try (Arena arena = Arena.ofConfined()) {
            nftnl_chain_set_str(c, CHAIN_TABLE, arena.allocateFrom(chain.table()));
            nftnl_chain_set_str(c, CHAIN_NAME, arena.allocateFrom(chain.name()));
            nftnl_chain_set_u32(c, CHAIN_FAMILY, chain.family());
            chain.hook().ifPresent(hook -> {
                nftnl_chain_set_str(c, CHAIN_TYPE, arena.allocateFrom(hook.type()));
                nftnl_chain_set_u32(c, CHAIN_HOOKNUM, hook.hooknum());
                nftnl_chain_set_s32(c, CHAIN_PRIO, hook.priority());
            });
            nftnl_chain_nlmsg_build_payload(nlh, c);
        } finally {
            nftnl_chain_free(c);
        }
    }

    /** Rule payload; with a handle set it addresses an existing rule (for delete). */
    public static void rulePayload(MemorySegment nlh, NftRule rule) {
        MemorySegment r = nftnl_rule_alloc();
        try (Arena arena = Arena.ofConfined()) {
            nftnl_rule_set_str(r, RULE_TABLE, arena.allocateFrom(rule.table()));
            if (rule.chain() != null) {
                nftnl_rule_set_str(r, RULE_CHAIN, arena.allocateFrom(rule.chain()));
            }
            nftnl_rule_set_u32(r, RULE_FAMILY, rule.family());
            if (rule.handle() != 0) {
                nftnl_rule_set_u64(r, RULE_HANDLE, rule.handle());
            }
            for (NftExpr expr : rule.expressions()) {
                // The rule owns the expression from here on and frees it with itself.
                nftnl_rule_add_expr(r, expression(expr, arena));
            }
            if (rule.comment() != null) {
                Bytes userdata = commentUserdata(rule.comment());
                nftnl_rule_set_data(r, RULE_USERDATA, arena.allocateFrom(JAVA_BYTE, userdata.value()), userdata.length());
            }
            nftnl_rule_nlmsg_build_payload(nlh, r);
        } finally {
            nftnl_rule_free(r);
        }
    }

    private static MemorySegment expression(NftExpr expr, Arena arena) {
        if (expr instanceof NftExpr.Other other) {
            throw new IllegalArgumentException("cannot build expression '" + other.name() + "': iamlet only reads it");
        }
        MemorySegment e = nftnl_expr_alloc(arena.allocateFrom(expr.name()));
        if (e.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("libnftnl does not know expression '" + expr.name() + "'");
        }
        switch (expr) {
            case NftExpr.Meta m -> {
                nftnl_expr_set_u32(e, META_KEY, m.key());
                nftnl_expr_set_u32(e, META_DREG, m.dreg());
            }
            case NftExpr.Cmp c -> {
                nftnl_expr_set_u32(e, CMP_SREG, c.sreg());
                nftnl_expr_set_u32(e, CMP_OP, c.op());
                setData(e, CMP_DATA, c.data(), arena);
            }
            case NftExpr.Payload p -> {
                nftnl_expr_set_u32(e, PAYLOAD_DREG, p.dreg());
                nftnl_expr_set_u32(e, PAYLOAD_BASE, p.base());
                nftnl_expr_set_u32(e, PAYLOAD_OFFSET, p.offset());
                nftnl_expr_set_u32(e, PAYLOAD_LEN, p.length());
            }
            case NftExpr.Immediate i -> {
                nftnl_expr_set_u32(e, IMM_DREG, i.dreg());
                setData(e, IMM_DATA, i.data(), arena);
            }
            case NftExpr.Verdict v -> {
                nftnl_expr_set_u32(e, IMM_DREG, NFT_REG_VERDICT);
                nftnl_expr_set_u32(e, IMM_VERDICT, v.verdict());
                if (v.chain() != null) {
                    nftnl_expr_set_str(e, IMM_CHAIN, arena.allocateFrom(v.chain()));
                }
            }
            case NftExpr.Counter ignored -> {
                // A new counter starts at zero; nothing to set.
            }
            case NftExpr.Nat n -> {
                nftnl_expr_set_u32(e, NAT_TYPE, n.type());
                nftnl_expr_set_u32(e, NAT_FAMILY, n.family());
                setRegister(e, NAT_REG_ADDR_MIN, n.regAddrMin());
                setRegister(e, NAT_REG_ADDR_MAX, n.regAddrMax());
                setRegister(e, NAT_REG_PROTO_MIN, n.regProtoMin());
                setRegister(e, NAT_REG_PROTO_MAX, n.regProtoMax());
                if (n.flags() != 0) {
                    nftnl_expr_set_u32(e, NAT_FLAGS, n.flags());
                }
            }
            case NftExpr.Reject r -> {
                nftnl_expr_set_u32(e, REJECT_TYPE, r.type());
                nftnl_expr_set_u8(e, REJECT_CODE, (byte) r.code());
            }
            case NftExpr.Target t -> compat(e, t.targetName(), t.revision(), t.info(), arena);
            case NftExpr.Match m -> compat(e, m.matchName(), m.revision(), m.info(), arena);
            case NftExpr.Other ignored -> throw new AssertionError("handled above");
        }
        return e;
    }

    private static void setRegister(MemorySegment e, short attr, int register) {
        if (register != 0) {
            nftnl_expr_set_u32(e, attr, register);
        }
    }

    private static void setData(MemorySegment e, short attr, Bytes data, Arena arena) {
        nftnl_expr_set(e, attr, arena.allocateFrom(JAVA_BYTE, data.value()), data.length());
    }

    private static void compat(MemorySegment e, String name, int revision, Bytes info, Arena arena) {
        nftnl_expr_set_str(e, COMPAT_NAME, arena.allocateFrom(name));
        nftnl_expr_set_u32(e, COMPAT_REV, revision);
        // libnftnl keeps the info pointer itself and frees it with the expression, so it must come from malloc.
        MemorySegment owned = Libc.malloc(info.length());
        MemorySegment.copy(info.value(), 0, owned, JAVA_BYTE, 0, info.length());
        nftnl_expr_set(e, COMPAT_INFO, owned, info.length());
    }

    /** Userdata TLV list with one comment attribute, as nft writes it. */
    public static Bytes commentUserdata(String comment) {
        MemorySegment buf = nftnl_udata_buf_alloc(USERDATA_MAX);
        try (Arena arena = Arena.ofConfined()) {
            if (!nftnl_udata_put_strz(buf, UDATA_COMMENT, arena.allocateFrom(comment))) {
                throw new IllegalArgumentException("comment too long for nf_tables userdata (" + USERDATA_MAX + " bytes): " + comment);
            }
            int length = nftnl_udata_buf_len(buf);
            return new Bytes(nftnl_udata_buf_data(buf).reinterpret(length).toArray(JAVA_BYTE));
        } finally {
            nftnl_udata_buf_free(buf);
        }
    }

    /** The comment attribute of a userdata TLV list, or null. */
    public static String commentOf(Bytes userdata) {
        byte[] b = userdata.value();
        int offset = 0;
        while (offset + 2 <= b.length) {
            int type = Byte.toUnsignedInt(b[offset]);
            int length = Byte.toUnsignedInt(b[offset + 1]);
            if (offset + 2 + length > b.length) {
                return null;
            }
            if (type == UDATA_COMMENT) {
                int end = offset + 2;
                while (end < offset + 2 + length && b[end] != 0) {
                    end++;
                }
                return new String(b, offset + 2, end - offset - 2, StandardCharsets.UTF_8);
            }
            offset += 2 + length;
        }
        return null;
    }

    // ---- parsing ----

    public static NftTable parseTable(MemorySegment nlh) {
        MemorySegment t = nftnl_table_alloc();
        try (Arena arena = Arena.ofConfined()) {
            check(nftnl_table_nlmsg_parse(nlh, t), "table");
            String comment = null;
            if (nftnl_table_is_set(t, TABLE_USERDATA)) {
                MemorySegment length = arena.allocate(JAVA_INT);
                comment = commentOf(copy(nftnl_table_get_data(t, TABLE_USERDATA, length), length));
            }
            return new NftTable(nftnl_table_get_u32(t, TABLE_FAMILY), string(nftnl_table_get_str(t, TABLE_NAME)), comment);
        } finally {
            nftnl_table_free(t);
        }
    }

    public static NftChain parseChain(MemorySegment nlh) {
        MemorySegment c = nftnl_chain_alloc();
        try {
            check(nftnl_chain_nlmsg_parse(nlh, c), "chain");
            Optional<NftChain.Hook> hook = nftnl_chain_is_set(c, CHAIN_HOOKNUM)
                    ? Optional.of(new NftChain.Hook(
                            nftnl_chain_is_set(c, CHAIN_TYPE) ? string(nftnl_chain_get_str(c, CHAIN_TYPE)) : "filter",
                            nftnl_chain_get_u32(c, CHAIN_HOOKNUM),
                            nftnl_chain_get_s32(c, CHAIN_PRIO)))
                    : Optional.empty();
            return new NftChain(nftnl_chain_get_u32(c, CHAIN_FAMILY),
                    string(nftnl_chain_get_str(c, CHAIN_TABLE)), string(nftnl_chain_get_str(c, CHAIN_NAME)), hook);
        } finally {
            nftnl_chain_free(c);
        }
    }

    public static NftRule parseRule(MemorySegment nlh) {
        MemorySegment r = nftnl_rule_alloc();
        try (Arena arena = Arena.ofConfined()) {
            check(nftnl_rule_nlmsg_parse(nlh, r), "rule");
            List<NftExpr> expressions = new ArrayList<>();
            MemorySegment iter = nftnl_expr_iter_create(r);
            try {
                for (MemorySegment e = nftnl_expr_iter_next(iter); !e.equals(MemorySegment.NULL); e = nftnl_expr_iter_next(iter)) {
                    expressions.add(parseExpression(e, arena));
                }
            } finally {
                nftnl_expr_iter_destroy(iter);
            }
            String comment = null;
            if (nftnl_rule_is_set(r, RULE_USERDATA)) {
                MemorySegment length = arena.allocate(JAVA_INT);
                comment = commentOf(copy(nftnl_rule_get_data(r, RULE_USERDATA, length), length));
            }
            return new NftRule(nftnl_rule_get_u32(r, RULE_FAMILY), string(nftnl_rule_get_str(r, RULE_TABLE)),
                    string(nftnl_rule_get_str(r, RULE_CHAIN)), nftnl_rule_get_u64(r, RULE_HANDLE), expressions, comment);
        } finally {
            nftnl_rule_free(r);
        }
    }

    private static NftExpr parseExpression(MemorySegment e, Arena arena) {
        String name = string(nftnl_expr_get_str(e, EXPR_NAME));
        return switch (name) {
            case "meta" -> nftnl_expr_is_set(e, META_SREG)
                    ? new NftExpr.Other("meta set")
                    : new NftExpr.Meta(nftnl_expr_get_u32(e, META_KEY), nftnl_expr_get_u32(e, META_DREG));
            case "cmp" -> new NftExpr.Cmp(nftnl_expr_get_u32(e, CMP_SREG), nftnl_expr_get_u32(e, CMP_OP), exprData(e, CMP_DATA, arena));
            case "payload" -> nftnl_expr_is_set(e, PAYLOAD_SREG)
                    ? new NftExpr.Other("payload set")
                    : new NftExpr.Payload(nftnl_expr_get_u32(e, PAYLOAD_DREG), nftnl_expr_get_u32(e, PAYLOAD_BASE),
                            nftnl_expr_get_u32(e, PAYLOAD_OFFSET), nftnl_expr_get_u32(e, PAYLOAD_LEN));
            case "immediate" -> nftnl_expr_get_u32(e, IMM_DREG) == NFT_REG_VERDICT
                    ? new NftExpr.Verdict(nftnl_expr_get_u32(e, IMM_VERDICT),
                            nftnl_expr_is_set(e, IMM_CHAIN) ? string(nftnl_expr_get_str(e, IMM_CHAIN)) : null)
                    : new NftExpr.Immediate(nftnl_expr_get_u32(e, IMM_DREG), exprData(e, IMM_DATA, arena));
            case "reject" -> new NftExpr.Reject(nftnl_expr_get_u32(e, REJECT_TYPE), Byte.toUnsignedInt(nftnl_expr_get_u8(e, REJECT_CODE)));
            case "counter" -> new NftExpr.Counter(nftnl_expr_get_u64(e, CTR_PACKETS), nftnl_expr_get_u64(e, CTR_BYTES));
            case "nat" -> new NftExpr.Nat(nftnl_expr_get_u32(e, NAT_TYPE), nftnl_expr_get_u32(e, NAT_FAMILY),
                    register(e, NAT_REG_ADDR_MIN), register(e, NAT_REG_ADDR_MAX), register(e, NAT_REG_PROTO_MIN), register(e, NAT_REG_PROTO_MAX),
                    nftnl_expr_is_set(e, NAT_FLAGS) ? nftnl_expr_get_u32(e, NAT_FLAGS) : 0);
            case "target" -> new NftExpr.Target(string(nftnl_expr_get_str(e, COMPAT_NAME)), nftnl_expr_get_u32(e, COMPAT_REV), exprData(e, COMPAT_INFO, arena));
            case "match" -> new NftExpr.Match(string(nftnl_expr_get_str(e, COMPAT_NAME)), nftnl_expr_get_u32(e, COMPAT_REV), exprData(e, COMPAT_INFO, arena));
            default -> new NftExpr.Other(name);
        };
    }

    private static int register(MemorySegment e, short attr) {
        return nftnl_expr_is_set(e, attr) ? nftnl_expr_get_u32(e, attr) : 0;
    }

    private static Bytes exprData(MemorySegment e, short attr, Arena arena) {
        if (!nftnl_expr_is_set(e, attr)) {
            return Bytes.EMPTY;
        }
        MemorySegment length = arena.allocate(JAVA_INT);
        return copy(nftnl_expr_get(e, attr, length), length);
    }

    /** Copies data libnftnl owns, whose length it wrote into {@code length}. */
    private static Bytes copy(MemorySegment pointer, MemorySegment length) {
        if (pointer.equals(MemorySegment.NULL)) {
            return Bytes.EMPTY;
        }
        return new Bytes(pointer.reinterpret(Integer.toUnsignedLong(length.get(JAVA_INT, 0))).toArray(JAVA_BYTE));
    }

    private static String string(MemorySegment pointer) {
        return pointer.equals(MemorySegment.NULL) ? null : pointer.getString(0);
    }

    private static void check(int rc, String what) {
        if (rc < 0) {
            throw new IllegalArgumentException("libnftnl could not parse the kernel's " + what + " message");
        }
    }
}
