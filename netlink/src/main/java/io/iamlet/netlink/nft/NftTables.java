package io.iamlet.netlink.nft;

/**
 * nf_tables as the backends see it: read, and apply a transaction whole or not at all. The netlink
 * implementation talks to the kernel; a model of it (in the tests) applies the same operations with the
 * kernel's semantics, so backend logic can be tested without root.
 */
public interface NftTables extends NftReader, AutoCloseable {
    /**
     * Applies every operation of the plan, in order, atomically; throws a NativeException naming {@code task} and the
     * refused step otherwise, and then nothing was applied.
     */
    void apply(Transaction plan, String task);

    @Override
    void close();

    /** Opens a session: a netlink socket, or the model. */
    @FunctionalInterface
    interface Opener {
        NftTables open();
    }
}
