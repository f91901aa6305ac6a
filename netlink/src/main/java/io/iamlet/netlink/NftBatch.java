package io.iamlet.netlink;

import io.iamlet.netlink.nft.NftChain;
import io.iamlet.netlink.nft.NftOp;
import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.NftTable;
import io.iamlet.netlink.nft.NftnlCodec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

import static io.iamlet.netlink.NetlinkConstants.*;
import static io.iamlet.netlink.nftnl.common_h.nftnl_batch_begin;
import static io.iamlet.netlink.nftnl.common_h.nftnl_batch_end;
import static io.iamlet.netlink.nftnl.common_h.nftnl_nlmsg_build_hdr;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/**
 * A transaction's operations encoded with libnftnl: one batch of netlink messages framed by batch begin and end,
 * in memory of the arena the caller holds for one send. {@code steps} names what each message (by sequence
 * number) does, so a refusal is reported for the operation that caused it.
 */
public record NftBatch(MemorySegment bytes, int beginSequence, Map<Integer, String> steps) {
    public NftBatch {
        steps = Collections.unmodifiableMap(new LinkedHashMap<>(steps));
    }

    /** Encodes a plan's operations into {@code arena}; sequence numbers come from {@code sequences}, normally the socket's. */
    public static NftBatch encode(List<NftOp> plan, IntSupplier sequences, Arena arena) {
        return new Writer(sequences, arena).write(plan);
    }

    /**
     * Sends the batch in one datagram and waits for the kernel's answer to each message. Throws
     * {@link NetlinkException} naming the first refused step; the kernel has then applied none of them.
     */
    public void send(NetlinkSocket socket, String task) {
        if (steps.isEmpty()) {
            return;
        }
        socket.send(bytes, bytes.byteSize(), task);
        socket.awaitAcks(steps, beginSequence, task);
    }

    /** Appends messages to a buffer that grows in the arena. */
    private static final class Writer {
        // libnftnl writes without bounds checks, so keep more room free than any single message needs.
        private static final long MESSAGE_ROOM = 8192;

        private final IntSupplier sequences;
        private final Arena arena;
        private final Map<Integer, String> steps = new LinkedHashMap<>();
        private MemorySegment buffer;
        private long length;

        Writer(IntSupplier sequences, Arena arena) {
            this.sequences = sequences;
            this.arena = arena;
            this.buffer = arena.allocate(4 * MESSAGE_ROOM, 8);
        }

        NftBatch write(List<NftOp> ops) {
            int begin = sequences.getAsInt();
            advance(nftnl_batch_begin(buffer, begin));
            ops.forEach(this::write);
            advance(nftnl_batch_end(room(), sequences.getAsInt()));
            return new NftBatch(buffer.asSlice(0, length), begin, steps);
        }

        private void write(NftOp op) {
            String step = op.describe();
            switch (op.object()) {
                case NftTable table -> writeTable(op.verb(), table, step);
                case NftChain chain -> writeChain(op.verb(), chain, step);
                case NftRule rule -> writeRule(op.verb(), rule, step);
            }
        }

        private void writeTable(NftOp.Verb verb, NftTable table, String step) {
            int family = table.family();
            switch (verb) {
                case ADD -> message(NFT_MSG_NEWTABLE, family, NLM_F_CREATE, step, nlh -> NftnlCodec.tablePayload(nlh, table, false));
                case CREATE -> message(NFT_MSG_NEWTABLE, family, NLM_F_CREATE | NLM_F_EXCL, step,
                        nlh -> NftnlCodec.tablePayload(nlh, table, true));
                case DELETE -> message(NFT_MSG_DELTABLE, family, 0, step, nlh -> NftnlCodec.tablePayload(nlh, table, false));
                case DESTROY -> {
                    // NFT_MSG_DESTROYTABLE exists only since Linux 6.3, and nodes run older kernels: an add
                    // (create if absent) in front makes the delete succeed whether or not the table was there.
                    message(NFT_MSG_NEWTABLE, family, NLM_F_CREATE, step, nlh -> NftnlCodec.tablePayload(nlh, table, false));
                    message(NFT_MSG_DELTABLE, family, 0, step, nlh -> NftnlCodec.tablePayload(nlh, table, false));
                }
                default -> throw new IllegalArgumentException(step);
            }
        }

        private void writeChain(NftOp.Verb verb, NftChain chain, String step) {
            int family = chain.family();
            switch (verb) {
                case ADD -> message(NFT_MSG_NEWCHAIN, family, NLM_F_CREATE, step, nlh -> NftnlCodec.chainPayload(nlh, chain));
                case DELETE -> message(NFT_MSG_DELCHAIN, family, 0, step,
                        nlh -> NftnlCodec.chainPayload(nlh, NftChain.regular(family, chain.table(), chain.name())));
                case FLUSH -> message(NFT_MSG_DELRULE, family, 0, step,
                        nlh -> NftnlCodec.rulePayload(nlh, NftRule.of(family, chain.table(), chain.name(), List.of(), null)));
                default -> throw new IllegalArgumentException(step);
            }
        }

        private void writeRule(NftOp.Verb verb, NftRule rule, String step) {
            int family = rule.family();
            switch (verb) {
                case ADD -> message(NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_APPEND, step, nlh -> NftnlCodec.rulePayload(nlh, rule));
                case INSERT -> message(NFT_MSG_NEWRULE, family, NLM_F_CREATE, step, nlh -> NftnlCodec.rulePayload(nlh, rule));
                case DELETE -> message(NFT_MSG_DELRULE, family, 0, step, nlh -> NftnlCodec.rulePayload(nlh,
                        new NftRule(family, rule.table(), rule.chain(), rule.handle(), List.of(), null)));
                default -> throw new IllegalArgumentException(step);
            }
        }

        private void message(int msg, int family, int flags, String step, Consumer<MemorySegment> payload) {
            int seq = sequences.getAsInt();
            steps.put(seq, step);
            MemorySegment nlh = nftnl_nlmsg_build_hdr(room(), (short) nftType(msg), (short) family, (short) (flags | NLM_F_ACK), seq);
            payload.accept(nlh);
            advance(nlh);
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
    }
}
