package io.iamlet.netlink.nft;

/**
 * One operation of an nf_tables transaction, on a typed object. Verbs as nft names them: add is "create if
 * absent" (NLM_F_CREATE), create fails with EEXIST when the object exists (NLM_F_CREATE|NLM_F_EXCL), delete
 * fails with ENOENT when it does not, flush empties a chain. A transaction is a list of these, encoded only
 * when it is run, so a plan can be looked at, compared and applied to a model as well as to the kernel.
 */
public sealed interface NftOp {
    /** What the operation does, for error messages: "delete table inet iamlet". */
    String describe();

    record AddTable(NftTable table) implements NftOp {
        public String describe() {
            return "ensure " + table;
        }
    }

    record CreateTable(NftTable table) implements NftOp {
        public String describe() {
            return "create " + table;
        }
    }

    record DeleteTable(NftTable table) implements NftOp {
        public String describe() {
            return "delete " + table;
        }
    }

    record AddChain(NftChain chain) implements NftOp {
        public String describe() {
            return "create " + chain;
        }
    }

    record DeleteChain(NftChain chain) implements NftOp {
        public String describe() {
            return "delete " + chain;
        }
    }

    /** Deletes every rule of the chain. */
    record FlushChain(NftChain chain) implements NftOp {
        public String describe() {
            return "flush " + chain;
        }
    }

    /** Adds the rule at the end of its chain. */
    record AppendRule(NftRule rule) implements NftOp {
        public String describe() {
            return "append " + rule;
        }
    }

    /** Adds the rule at the head of its chain, before every rule already there. */
    record InsertRule(NftRule rule) implements NftOp {
        public String describe() {
            return "insert " + rule;
        }
    }

    /** Deletes one rule, by its kernel handle. */
    record DeleteRule(NftRule rule) implements NftOp {
        public DeleteRule {
            if (rule.handle() == 0) {
                throw new IllegalArgumentException("deleting a rule needs its kernel handle: " + rule);
            }
        }

        public String describe() {
            return "delete " + rule;
        }
    }
}
