package io.iamlet.netlink;

import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftOp;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftnlCodec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.concurrent.atomic.AtomicInteger;

import static io.iamlet.netlink.NetlinkConstants.*;
import static io.iamlet.netlink.nftnl.common_h.nftnl_batch_begin;
import static io.iamlet.netlink.nftnl.common_h.nftnl_batch_end;
import static io.iamlet.netlink.nftnl.common_h.nftnl_nlmsg_build_hdr;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/**
 * One nf_tables batch: the kernel applies all of its operations or none. The verbs only record typed
 * operations ({@link #ops}), so a plan can be inspected or applied to a model; the messages are built with
 * libnftnl into a buffer this transaction owns only when {@link #end} or {@link #commit} encodes them, and
 * {@link #commit} sends them in one datagram and reads every answer, so a refusal is reported for the
 * operation that caused it.
 */
public final class NftTransaction implements AutoCloseable {
    // libnftnl writes without bounds checks, so keep more room free than any single message needs.
    private static final long MESSAGE_ROOM = 8192;

    private final Arena arena = Arena.ofConfined();
    private final IntSupplier sequences;
    private final List<NftOp> ops = new ArrayList<>();
    private final Map<Integer, String> operations = new LinkedHashMap<>();
    private int batchSequence;
    private MemorySegment buffer;
    private long length;
    private MemorySegment encoded;

    /** A plan only: encoding it needs sequence numbers, which a socket gives. */
    public NftTransaction() {
        this(new AtomicInteger()::incrementAndGet);
    }

    /** @param sequences source of netlink sequence numbers, normally {@link NetlinkSocket#nextSequence}. */
    public NftTransaction(IntSupplier sequences) {
        this.sequences = sequences;
    }

    public NftTransaction add(NftOp op) {
        if (encoded != null) {
            throw new IllegalStateException("transaction already ended");
        }
        ops.add(op);
        return this;
    }

    /** Creates the table if it is absent; leaves an existing one (and its userdata) as it is. */
    public NftTransaction addTable(NftTable table) {
        return add(new NftOp.AddTable(table));
    }

    /** Creates the table, failing with EEXIST if it exists; carries the table's comment. */
    public NftTransaction createTable(NftTable table) {
        return add(new NftOp.CreateTable(table));
    }

    /** Deletes the table with all its chains and rules; fails with ENOENT if it is absent. */
    public NftTransaction deleteTable(NftTable table) {
        return add(new NftOp.DeleteTable(table));
    }

    /** Creates the chain if it is absent. */
    public NftTransaction addChain(NftChain chain) {
        return add(new NftOp.AddChain(chain));
    }

    /** Deletes the chain; fails with ENOENT if absent, EBUSY while it holds rules or is jumped to. */
    public NftTransaction deleteChain(NftChain chain) {
        return add(new NftOp.DeleteChain(chain));
    }

    /** Deletes every rule of a chain. */
    public NftTransaction flushChain(NftChain chain) {
        return add(new NftOp.FlushChain(chain));
    }

    /** Appends the rule at the end of its chain. */
    public NftTransaction appendRule(NftRule rule) {
        return add(new NftOp.AppendRule(rule));
    }

    /** Inserts the rule at the head of its chain, before every rule already there. */
    public NftTransaction insertRule(NftRule rule) {
        return add(new NftOp.InsertRule(rule));
    }

    /** Deletes one rule by its handle. */
    public NftTransaction deleteRule(NftRule rule) {
        return add(new NftOp.DeleteRule(rule));
    }

    /** The plan: every operation, in order. */
    public List<NftOp> ops() {
        return List.copyOf(ops);
    }

    /** What each message (by sequence number) does, in order, once encoded; for tests and error messages. */
    public Map<Integer, String> operations() {
        return Collections.unmodifiableMap(operations);
    }

    /** Encodes the batch (once) and returns the bytes that {@link #commit} would send. */
    public MemorySegment end() {
        if (encoded == null) {
            buffer = arena.allocate(4 * MESSAGE_ROOM, 8);
            batchSequence = sequences.getAsInt();
            advance(nftnl_batch_begin(buffer, batchSequence));
            ops.forEach(this::encode);
            advance(nftnl_batch_end(room(), sequences.getAsInt()));
            encoded = buffer.asSlice(0, length);
        }
        return encoded;
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

    private void encode(NftOp op) {
        switch (op) {
            case NftOp.AddTable(NftTable table) ->
                    NftnlCodec.tablePayload(header(NFT_MSG_NEWTABLE, table.family(), NLM_F_CREATE, op), table, false);
            case NftOp.CreateTable(NftTable table) ->
                    NftnlCodec.tablePayload(header(NFT_MSG_NEWTABLE, table.family(), NLM_F_CREATE | NLM_F_EXCL, op), table, true);
            case NftOp.DeleteTable(NftTable table) ->
                    NftnlCodec.tablePayload(header(NFT_MSG_DELTABLE, table.family(), 0, op), table, false);
            case NftOp.AddChain(NftChain chain) ->
                    NftnlCodec.chainPayload(header(NFT_MSG_NEWCHAIN, chain.family(), NLM_F_CREATE, op), chain);
            case NftOp.DeleteChain(NftChain chain) -> NftnlCodec.chainPayload(header(NFT_MSG_DELCHAIN, chain.family(), 0, op),
                    NftChain.regular(chain.family(), chain.table(), chain.name()));
            case NftOp.FlushChain(NftChain chain) -> NftnlCodec.rulePayload(header(NFT_MSG_DELRULE, chain.family(), 0, op),
                    NftRule.of(chain.family(), chain.table(), chain.name(), List.of(), null));
            case NftOp.AppendRule(NftRule rule) ->
                    NftnlCodec.rulePayload(header(NFT_MSG_NEWRULE, rule.family(), NLM_F_CREATE | NLM_F_APPEND, op), rule);
            case NftOp.InsertRule(NftRule rule) ->
                    NftnlCodec.rulePayload(header(NFT_MSG_NEWRULE, rule.family(), NLM_F_CREATE, op), rule);
            case NftOp.DeleteRule(NftRule rule) -> NftnlCodec.rulePayload(header(NFT_MSG_DELRULE, rule.family(), 0, op),
                    new NftRule(rule.family(), rule.table(), rule.chain(), rule.handle(), List.of(), null));
        }
        advanceLast();
    }

    private MemorySegment last;

    private MemorySegment header(int msg, int family, int flags, NftOp op) {
        int seq = sequences.getAsInt();
        operations.put(seq, op.describe());
        last = nftnl_nlmsg_build_hdr(room(), (short) nftType(msg), (short) family, (short) (flags | NLM_F_ACK), seq);
        return last;
    }

    private void advanceLast() {
        advance(last);
    }

    private MemorySegment room() {
        if (buffer.byteSize() - length < MESSAGE_ROOM) {
            MemorySegment bigger = arena.allocate(buffer.byteSize() * 2, 8);
            MemorySegment.copy(buffer, 0, bigger, 0, length);
            buffer = bigger;
        }
        return buffer.asSlice(length);
    }

    private void advance(MemorySegment nlh) {
        long messageLength = Integer.toUnsignedLong(nlh.get(JAVA_INT_UNALIGNED, 0));
        length += NetlinkSocket.align(messageLength);
        if (length > buffer.byteSize()) {
            throw new IllegalStateException("netlink message overran the batch buffer");
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
