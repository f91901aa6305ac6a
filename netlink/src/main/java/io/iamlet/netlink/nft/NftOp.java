package io.iamlet.netlink.nft;

import java.util.Locale;

/**
 * One operation of an nf_tables transaction: a verb on a typed object, with the verbs as nft names them.
 * A transaction is a list of these, encoded only when it is run, so a plan can be looked at, compared and
 * applied to a model as well as to the kernel.
 */
public record NftOp(Verb verb, NftObject object) {
    public enum Verb {
        /** A table or chain: create it if it is absent, leave it as it is otherwise. A rule: append it. */
        ADD,
        /** A table: create it, failing with EEXIST if it exists. */
        CREATE,
        /** A rule: add it at the head of its chain, before every rule already there. */
        INSERT,
        /** Delete the object, failing with ENOENT if it is absent; a rule by its kernel handle. */
        DELETE,
        /** A table: delete it with all its chains and rules if it is there; never fails for its absence. */
        DESTROY,
        /** A chain: delete every rule in it. */
        FLUSH;

        String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public NftOp {
        boolean allowed = switch (object) {
            case NftTable ignored -> verb == Verb.ADD || verb == Verb.CREATE || verb == Verb.DELETE || verb == Verb.DESTROY;
            case NftChain ignored -> verb == Verb.ADD || verb == Verb.DELETE || verb == Verb.FLUSH;
            case NftRule ignored -> verb == Verb.ADD || verb == Verb.INSERT || verb == Verb.DELETE;
        };
        if (!allowed) {
            throw new IllegalArgumentException("nf_tables has no '" + verb.word() + "' for " + object);
        }
        if (verb == Verb.DELETE && object instanceof NftRule rule && rule.handle() == 0) {
            throw new IllegalArgumentException("deleting a rule needs its kernel handle: " + rule);
        }
    }

    /** What the operation does, for error messages: "delete table inet iamlet". */
    public String describe() {
        return verb.word() + " " + object;
    }
}
