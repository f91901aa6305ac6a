package io.iamlet.netlink.nft;

import java.util.ArrayList;
import java.util.List;

/**
 * A plan for one nf_tables batch, which the kernel applies whole or not at all: the verbs only record
 * {@link NftOp}s. Nothing here touches native memory; {@link NftTables#apply} runs the plan, on the kernel
 * or on a model.
 */
public final class Transaction {
    private final List<NftOp> ops = new ArrayList<>();

    /** A table or chain: creates it if absent. A rule: appends it at the end of its chain. */
    public Transaction add(NftObject object) { return op(NftOp.Verb.ADD, object); }

    /** Creates the table, failing with EEXIST if it exists; carries the table's comment. */
    public Transaction create(NftTable table) { return op(NftOp.Verb.CREATE, table); }

    /** Inserts the rule at the head of its chain. */
    public Transaction insert(NftRule rule) { return op(NftOp.Verb.INSERT, rule); }

    /** Deletes the object; fails with ENOENT if absent, and a chain with EBUSY while it holds rules or is jumped to. */
    public Transaction delete(NftObject object) { return op(NftOp.Verb.DELETE, object); }

    /** Deletes the table with everything in it if it is there. */
    public Transaction destroy(NftTable table) { return op(NftOp.Verb.DESTROY, table); }

    /** Deletes every rule of the chain. */
    public Transaction flush(NftChain chain) { return op(NftOp.Verb.FLUSH, chain); }

    private Transaction op(NftOp.Verb verb, NftObject object) {
        ops.add(new NftOp(verb, object));
        return this;
    }

    /** The plan: every operation, in order. */
    public List<NftOp> ops() {
        return List.copyOf(ops);
    }

    public boolean isEmpty() {
        return ops.isEmpty();
    }
}
