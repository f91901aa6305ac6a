package io.iamlet.netlink.nft;

import static io.iamlet.netlink.NetlinkConstants.familyName;

/** An nf_tables table; {@code comment} is kept in the table's userdata. */
public record NftTable(int family, String name, String comment) implements NftObject {
    @Override
    public String toString() {
        return "table " + familyName(family) + " " + name;
    }
}
