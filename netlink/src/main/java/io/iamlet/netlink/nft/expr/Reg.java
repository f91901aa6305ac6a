package io.iamlet.netlink.nft.expr;

import static io.iamlet.netlink.NetlinkConstants.NFT_REG_1;
import static io.iamlet.netlink.NetlinkConstants.NFT_REG_2;

/** The data registers iamlet uses. */
public enum Reg {
    R1(NFT_REG_1), R2(NFT_REG_2);

    final int number;

    Reg(int number) {
        this.number = number;
    }
}
