package io.iamlet.netlink;

import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftnlCodec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

import static io.iamlet.netlink.NetlinkConstants.*;
import static io.iamlet.netlink.nftnl.common_h.nftnl_batch_begin;
import static io.iamlet.netlink.nftnl.common_h.nftnl_batch_end;
import static io.iamlet.netlink.nftnl.common_h.nftnl_nlmsg_build_hdr;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/**
 * One nf_tables batch: the kernel applies all of its messages or none. Messages are built with
 * libnftnl into a buffer this transaction owns; {@link #commit} sends them in one datagram and reads
 * every answer, so a refusal is reported for the message that caused it.
 */
public final class NftTransaction implements AutoCloseable {
    // libnftnl writes without bounds checks, so keep more room free than any single message needs.
    private static final long MESSAGE_ROOM = 8192;

    private final Arena arena = Arena.ofConfined();
    private final IntSupplier sequences;
    private final int batchSequence;
    private final Map<Integer, String> operations = new LinkedHashMap<>();
    private MemorySegment buffer;
    private long length;
    private boolean ended;

    /** @param sequences source of netlink sequence numbers, normally {@link NetlinkSocket#nextSequence}. */
    public NftTransaction(IntSupplier sequences) {
        this.sequences = sequences;
        this.buffer = arena.allocate(4 * MESSAGE_ROOM, 8);
        this.batchSequence = sequences.getAsInt();
        advance(nftnl_batch_begin(buffer, batchSequence));
    }

    /** Creates the table if it is absent; leaves an existing one (and its userdata) as it is. */
    public NftTransaction ensureTable(NftTable table) {
        MemorySegment nlh = header(NFT_MSG_NEWTABLE, table.family(), NLM_F_CREATE, "ensure " + table);
        NftnlCodec.tablePayload(nlh, table, false);
        return advance(nlh);
    }

    /** Creates the table, failing with EEXIST if it exists; carries the table's comment. */
    public NftTransaction createTable(NftTable table) {
        MemorySegment nlh = header(NFT_MSG_NEWTABLE, table.family(), NLM_F_CREATE | NLM_F_EXCL, "create " + table);
        NftnlCodec.tablePayload(nlh, table, true);
        return advance(nlh);
    }

    /** Deletes the table with all its chains and rules; fails with ENOENT if it is absent. */
    public NftTransaction deleteTable(int family, String name) {
        NftTable table = new NftTable(family, name, null);
        MemorySegment nlh = header(NFT_MSG_DELTABLE, family, 0, "delete " + table);
        NftnlCodec.tablePayload(nlh, table, false);
        return advance(nlh);
    }

    public NftTransaction createChain(NftChain chain) {
        MemorySegment nlh = header(NFT_MSG_NEWCHAIN, chain.family(), NLM_F_CREATE, "create " + chain);
        NftnlCodec.chainPayload(nlh, chain);
        return advance(nlh);
    }

    public NftTransaction deleteChain(NftChain chain) {
        MemorySegment nlh = header(NFT_MSG_DELCHAIN, chain.family(), 0, "delete " + chain);
        NftnlCodec.chainPayload(nlh, NftChain.regular(chain.family(), chain.table(), chain.name()));
        return advance(nlh);
    }

    /** Appends the rule at the end of its chain. */
    public NftTransaction appendRule(NftRule rule) {
        MemorySegment nlh = header(NFT_MSG_NEWRULE, rule.family(), NLM_F_CREATE | NLM_F_APPEND, "append " + rule);
        NftnlCodec.rulePayload(nlh, rule);
        return advance(nlh);
    }

    /** Inserts the rule at the head of its chain, before every rule already there. */
    public NftTransaction insertRule(NftRule rule) {
        MemorySegment nlh = header(NFT_MSG_NEWRULE, rule.family(), NLM_F_CREATE, "insert " + rule);
        NftnlCodec.rulePayload(nlh, rule);
        return advance(nlh);
    }

    /** Deletes one rule by its handle. */
    public NftTransaction deleteRule(NftRule rule) {
        if (rule.handle() == 0) {
            throw new IllegalArgumentException("deleting a rule needs its kernel handle: " + rule);
        }
        MemorySegment nlh = header(NFT_MSG_DELRULE, rule.family(), 0, "delete " + rule);
        NftnlCodec.rulePayload(nlh, new NftRule(rule.family(), rule.table(), rule.chain(), rule.handle(), List.of(), null));
        return advance(nlh);
    }

    /** Deletes every rule of a chain (a DELRULE naming the chain without a handle). */
    public NftTransaction flushChain(int family, String table, String chain) {
        NftRule selector = NftRule.of(family, table, chain, List.of(), null);
        MemorySegment nlh = header(NFT_MSG_DELRULE, family, 0, "flush chain " + familyName(family) + " " + table + " " + chain);
        NftnlCodec.rulePayload(nlh, selector);
        return advance(nlh);
    }

    /** What each message (by sequence number) does, in order; for tests and error messages. */
    public Map<Integer, String> operations() {
        return Collections.unmodifiableMap(operations);
    }

    public int batchSequence() {
        return batchSequence;
    }

    /** Closes the batch and returns the bytes that {@link #commit} would send. */
    public MemorySegment end() {
        if (!ended) {
            advance(nftnl_batch_end(room(), sequences.getAsInt()));
            ended = true;
        }
        return buffer.asSlice(0, length);
    }

    /**
     * Sends the batch and waits for the kernel's answer to each message. Throws {@link NetlinkException}
     * naming the first refused message; the kernel has then applied none of them.
     */
    public void commit(NetlinkSocket socket, String what) {
        MemorySegment bytes = end();
        if (operations.isEmpty()) {
            return;
        }
        socket.send(bytes, bytes.byteSize(), what);
        socket.awaitAcks(operations, batchSequence, what);
    }

    private MemorySegment header(int msg, int family, int flags, String description) {
        if (ended) {
            throw new IllegalStateException("transaction already ended");
        }
        int seq = sequences.getAsInt();
        operations.put(seq, description);
        return nftnl_nlmsg_build_hdr(room(), (short) nftType(msg), (short) family, (short) (flags | NLM_F_ACK), seq);
    }

    private MemorySegment room() {
        if (buffer.byteSize() - length < MESSAGE_ROOM) {
            MemorySegment bigger = arena.allocate(buffer.byteSize() * 2, 8);
            MemorySegment.copy(buffer, 0, bigger, 0, length);
            buffer = bigger;
        }
        return buffer.asSlice(length);
    }

    private NftTransaction advance(MemorySegment nlh) {
        long messageLength = Integer.toUnsignedLong(nlh.get(JAVA_INT_UNALIGNED, 0));
        length += NetlinkSocket.align(messageLength);
        if (length > buffer.byteSize()) {
            throw new IllegalStateException("netlink message overran the batch buffer");
        }
        return this;
    }

    @Override
    public void close() {
        arena.close();
    }
}
