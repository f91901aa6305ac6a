package io.iamlet.netlink.nft;

/**
 * The nf_tables expressions iamlet writes or must recognise when reading a chain back. Anything else
 * is read as {@link Other}, so a rule that is not ours is never mistaken for one of ours.
 */
public sealed interface NftExpr {
    /** Kernel expression name ("meta", "cmp", ...). */
    String name();

    /** {@code meta load KEY => reg DREG}. */
    record Meta(int key, int dreg) implements NftExpr {
        public String name() {
            return "meta";
        }
    }

    /** {@code cmp OP reg SREG DATA}. */
    record Cmp(int sreg, int op, Bytes data) implements NftExpr {
        public String name() {
            return "cmp";
        }
    }

    /** {@code payload load LEN b @ BASE header + OFFSET => reg DREG}. */
    record Payload(int dreg, int base, int offset, int length) implements NftExpr {
        public String name() {
            return "payload";
        }
    }

    /** {@code immediate reg DREG DATA}: loads data into a register. */
    record Immediate(int dreg, Bytes data) implements NftExpr {
        public String name() {
            return "immediate";
        }
    }

    /** {@code immediate reg 0 VERDICT [CHAIN]}: accept, drop, jump to a chain, ... */
    record Verdict(int verdict, String chain) implements NftExpr {
        public String name() {
            return "immediate";
        }
    }

    /** {@code counter}; packets and bytes are what the kernel reports, zero when building. */
    record Counter(long packets, long bytes) implements NftExpr {
        public String name() {
            return "counter";
        }
    }

    /** {@code nat TYPE FAMILY addr_min reg .. proto_min reg .. flags ..}; absent registers are 0. */
    record Nat(int type, int family, int regAddrMin, int regAddrMax, int regProtoMin, int regProtoMax, int flags)
            implements NftExpr {
        public String name() {
            return "nat";
        }
    }

    /** An xtables compat target ({@code -j DNAT}) with its revision and raw info payload. */
    record Target(String targetName, int revision, Bytes info) implements NftExpr {
        public String name() {
            return "target";
        }
    }

    /** An xtables compat match ({@code -m tcp}) with its revision and raw info payload. */
    record Match(String matchName, int revision, Bytes info) implements NftExpr {
        public String name() {
            return "match";
        }
    }

    /** {@code reject type TYPE code CODE}; type 1 is a TCP reset. */
    record Reject(int type, int code) implements NftExpr {
        public String name() {
            return "reject";
        }
    }

    /** Any expression iamlet does not write. */
    record Other(String name) implements NftExpr {
    }
}
