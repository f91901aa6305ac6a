package io.iamlet.netlink.nft;

import io.iamlet.netlink.nft.expr.Bytes;
import io.iamlet.netlink.nft.expr.NftExpr;
import io.iamlet.netlink.nft.expr.Nftnl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.iamlet.netlink.nftnl.chain_h.*;
import static io.iamlet.netlink.nftnl.rule_h.*;
import static io.iamlet.netlink.nftnl.table_h.*;
import static io.iamlet.netlink.nftnl.udata_h.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Turns tables, chains and rules into libnftnl objects and netlink payloads, and parsed kernel messages
 * back into records; each expression kind encodes and decodes itself ({@link NftExpr}). libnftnl objects are malloc'ed by the library and freed here before
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
    /** NFT_USERDATA_MAXLEN: the kernel refuses larger userdata. */
    private static final int USERDATA_MAX = 256;
    private static final byte UDATA_COMMENT = 0;

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
                nftnl_rule_add_expr(r, Nftnl.toNftnl(expr, arena));
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
                    expressions.add(Nftnl.fromNftnl(e, arena));
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

    /** Copies data libnftnl owns, whose length it wrote into {@code length}. */
    private static Bytes copy(MemorySegment pointer, MemorySegment length) {
        return Bytes.copyOf(pointer, length.get(JAVA_INT, 0));
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
