package io.iamlet.netlink.nft;

import io.iamlet.netlink.nft.expr.Counter;
import io.iamlet.netlink.nft.expr.NftExpr;

import java.util.List;

import static io.iamlet.netlink.NetlinkConstants.familyName;

/**
 * An nf_tables rule. {@code handle} is the kernel's id (0 when building); {@code comment} is kept in
 * the rule's userdata the way nft stores {@code comment "..."}, so operators see it in {@code nft list}.
 */
public record NftRule(int family, String table, String chain, long handle, List<NftExpr> expressions, String comment) implements NftObject {
    public NftRule {
        expressions = List.copyOf(expressions);
    }

    public static NftRule of(int family, String table, String chain, List<NftExpr> expressions, String comment) {
        return new NftRule(family, table, chain, 0, expressions, comment);
    }

    /** The same rule without what only the kernel knows (handle, counter values), for comparing content. */
    public NftRule content() {
        return new NftRule(family, table, chain, 0,
                expressions.stream()
                        .map(e -> e instanceof Counter ? Counter.zero() : e)
                        .toList(),
                comment);
    }

    @Override
    public String toString() {
        return "rule " + familyName(family) + " " + table + " " + chain + (handle != 0 ? " handle " + handle : "");
    }
}
