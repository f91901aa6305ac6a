package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The nf_tables expressions iamlet writes or must recognise when reading a chain back, one record per kind,
 * each with its libnftnl encoding beside it. Anything else is read as {@link Other}, so a rule that is not
 * ours is never mistaken for one of ours. The records keep the kernel's numbers, since rules read back may
 * carry any; their factories ({@code Meta.load(Meta.Key.IIFNAME, Reg.R1)}) are the typed way to write them.
 * {@link Nftnl} builds and reads them as libnftnl objects.
 */
public sealed interface NftExpr permits Meta, Cmp, Payload, Immediate, Verdict, Counter, Nat, Compat, Reject, Other {
    /** Kernel expression name ("meta", "cmp", ...). */
    String name();

    /** Sets this expression's attributes on the libnftnl expression {@code e}; strings and data come from {@code arena}. */
    void encode(MemorySegment e, Arena arena);
}
