package io.iamlet.netlink;

import io.iamlet.netlink.ffm.Errno;
import io.iamlet.netlink.ffm.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.lang.foreign.ValueLayout;

import static io.iamlet.netlink.NetlinkConstants.*;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * A NETLINK_NETFILTER socket. It lives in the network namespace of the thread that opened it and,
 * holding a confined arena, belongs to that thread alone.
 */
public final class NetlinkSocket implements AutoCloseable {
    private static final int RECEIVE_BUFFER = 256 * 1024;
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(5);

    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment receiveBuffer;
    private int sequence;

    private NetlinkSocket(int fd) {
        this.fd = fd;
        this.receiveBuffer = arena.allocate(RECEIVE_BUFFER, 8);
        // Start from the clock so answers meant for an earlier socket with a recycled port id never match.
        this.sequence = (int) (System.nanoTime() >>> 8) & 0x3fffffff;
    }

    /** Opens a netfilter netlink socket in the calling thread's network namespace. */
    public static NetlinkSocket openNetfilter() {
        int fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_NETFILTER);
        NetlinkSocket socket = new NetlinkSocket(fd);
        try {
            Libc.bindNetlink(fd);
            Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, RECEIVE_BUFFER, "SO_RCVBUF on netfilter socket");
            // Extended acks carry the kernel's own words for a refusal; echoing our request back is not needed.
            Libc.setsockoptInt(fd, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK on netfilter socket");
            Libc.setsockoptInt(fd, Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, 1, "NETLINK_CAP_ACK on netfilter socket");
            MemorySegment timeout = socket.arena.allocate(Libc.TIMEVAL);
            timeout.set(JAVA_LONG, 0, ANSWER_TIMEOUT.toSeconds());
            Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, timeout, "SO_RCVTIMEO on netfilter socket");
            return socket;
        } catch (RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    public int nextSequence() {
        sequence = (sequence + 1) & 0x7fffffff;
        return sequence;
    }

    public void send(MemorySegment message, long length, String what) {
        long sent = Libc.send(fd, message, length, what);
        if (sent != length) {
            throw new NetlinkException("send " + what + " (" + sent + " of " + length + " bytes went out)", Errno.EMSGSIZE, null);
        }
    }

    /**
     * Reads answers until every expected sequence number has its ACK or error. The kernel answers each
     * message of a batch; a refusal of the whole batch (no permission, no nf_tables) arrives as one error
     * for the batch-begin message instead, which ends the wait as well. Throws for the first error.
     */
    public void awaitAcks(Map<Integer, String> expected, int batchSequence, String what) {
        Map<Integer, String> pending = new LinkedHashMap<>(expected);
        NetlinkException[] first = new NetlinkException[1];
        while (!pending.isEmpty()) {
            boolean[] wholeBatchRefused = {false};
            receiveOnce(what, message -> {
                if (message.type() != NLMSG_ERROR) {
                    return;
                }
                int seq = message.sequence();
                String step = pending.remove(seq);
                String operation = step == null || seq == batchSequence ? what : what + " (step: " + step + ")";
                if (message.errorCode() != 0 && first[0] == null) {
                    first[0] = new NetlinkException(operation, -message.errorCode(), message.extendedAckText());
                }
                if (seq == batchSequence && message.errorCode() != 0) {
                    wholeBatchRefused[0] = true;
                }
            });
            if (wholeBatchRefused[0]) {
                break;
            }
        }
        if (first[0] != null) {
            throw first[0];
        }
    }

    /** Reads a dump's multi-part answer up to NLMSG_DONE, giving each message to {@code onMessage}. */
    public void readDump(int dumpSequence, String what, Consumer<Message> onMessage) {
        boolean[] done = {false};
        while (!done[0]) {
            receiveOnce(what, message -> {
                if (message.sequence() != dumpSequence || done[0]) {
                    return;
                }
                switch (message.type()) {
                    case NLMSG_DONE -> done[0] = true;
                    case NLMSG_ERROR -> {
                        if (message.errorCode() != 0) {
                            throw new NetlinkException(what, -message.errorCode(), message.extendedAckText());
                        }
                    }
                    default -> {
                        if ((message.flags() & NLM_F_DUMP_INTR) != 0) {
                            throw new DumpInterruptedException(what);
                        }
                        onMessage.accept(message);
                    }
                }
            });
        }
    }

    /**
     * Reads the answer to a single GET request: {@code onReply} gets the reply, {@code onAbsent} runs
     * when the kernel answers ENOENT. The message is only valid until the next receive on this socket.
     */
    public void readSingle(int requestSequence, String what, Consumer<Message> onReply, Runnable onAbsent) {
        boolean[] answered = {false};
        while (!answered[0]) {
            receiveOnce(what, message -> {
                if (message.sequence() != requestSequence || answered[0]) {
                    return;
                }
                if (message.type() == NLMSG_ERROR) {
                    answered[0] = true;
                    if (message.errorCode() == -Errno.ENOENT) {
                        onAbsent.run();
                    } else if (message.errorCode() != 0) {
                        throw new NetlinkException(what, -message.errorCode(), message.extendedAckText());
                    }
                    return;
                }
                answered[0] = true;
                onReply.accept(message);
            });
        }
    }

    private void receiveOnce(String what, Consumer<Message> onMessage) {
        long received = Libc.recv(fd, receiveBuffer, "answer to " + what);
        if (received == -Errno.EINTR) {
            return;
        }
        if (received == -Errno.EAGAIN) {
            throw new NetlinkException("waiting " + ANSWER_TIMEOUT.toSeconds() + "s for the kernel's answer to " + what,
                    Errno.EAGAIN, "no answer arrived");
        }
        long offset = 0;
        while (offset + NLMSG_HDRLEN <= received) {
            int length = receiveBuffer.get(JAVA_INT_UNALIGNED, offset);
            if (length < NLMSG_HDRLEN || offset + length > received) {
                throw new NetlinkException("parse the kernel's answer to " + what, Errno.EINVAL,
                        "malformed netlink message of length " + length + " at offset " + offset);
            }
            onMessage.accept(new Message(receiveBuffer.asSlice(offset, length)));
            offset += align(length);
        }
    }

    public static long align(long length) {
        return (length + 3) & ~3L;
    }

    @Override
    public void close() {
        try {
            Libc.close(fd);
        } finally {
            arena.close();
        }
    }

    /** NLM_F_DUMP_INTR: the dump raced with a change and is inconsistent; it must be read again. */
    static final int NLM_F_DUMP_INTR = 0x10;

    /** A dump that raced with a concurrent change; reading it again gives a consistent view. */
    public static final class DumpInterruptedException extends RuntimeException {
        DumpInterruptedException(String what) {
            super("the kernel interrupted the dump of " + what + " because the ruleset changed meanwhile");
        }
    }

    /** One netlink message inside the receive buffer; valid only until the next receive. */
    public record Message(MemorySegment segment) {
        public int length() {
            return segment.get(JAVA_INT_UNALIGNED, 0);
        }

        public int type() {
            return Short.toUnsignedInt(segment.get(JAVA_SHORT_UNALIGNED, 4));
        }

        public int flags() {
            return Short.toUnsignedInt(segment.get(JAVA_SHORT_UNALIGNED, 6));
        }

        public int sequence() {
            return segment.get(JAVA_INT_UNALIGNED, 8);
        }

        /** For NLMSG_ERROR: 0 for an ACK, otherwise a negative errno. */
        public int errorCode() {
            return segment.get(JAVA_INT_UNALIGNED, NLMSG_HDRLEN);
        }

        /** The kernel's NLMSGERR_ATTR_MSG text of an error, or null. */
        public String extendedAckText() {
            if (type() != NLMSG_ERROR || (flags() & NLM_F_ACK_TLVS) == 0) {
                return null;
            }
            long echoed = (flags() & NLM_F_CAPPED) != 0
                    ? NLMSG_HDRLEN
                    : align(segment.get(JAVA_INT_UNALIGNED, NLMSG_HDRLEN + 4));
            long offset = NLMSG_HDRLEN + 4 + echoed;
            while (offset + 4 <= segment.byteSize()) {
                int attrLength = Short.toUnsignedInt(segment.get(JAVA_SHORT_UNALIGNED, offset));
                int attrType = Short.toUnsignedInt(segment.get(JAVA_SHORT_UNALIGNED, offset + 2)) & 0x3fff;
                if (attrLength < 4 || offset + attrLength > segment.byteSize()) {
                    return null;
                }
                if (attrType == NLMSGERR_ATTR_MSG) {
                    byte[] text = segment.asSlice(offset + 4, attrLength - 4).toArray(ValueLayout.JAVA_BYTE);
                    int end = 0;
                    while (end < text.length && text[end] != 0) {
                        end++;
                    }
                    return new String(text, 0, end, StandardCharsets.UTF_8);
                }
                offset += align(attrLength);
            }
            return null;
        }
    }
}
