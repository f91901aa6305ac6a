package io.iamlet.netlink;

/** Netlink and nf_tables constants from the kernel's uapi headers (linux/netlink.h, linux/netfilter/*). */
public final class NetlinkConstants {
    // linux/netlink.h
    public static final int NLMSG_HDRLEN = 16;
    public static final int NLMSG_ERROR = 2;
    public static final int NLMSG_DONE = 3;
    public static final int NLM_F_REQUEST = 0x1;
    public static final int NLM_F_ACK = 0x4;
    public static final int NLM_F_EXCL = 0x200;
    public static final int NLM_F_CREATE = 0x400;
    public static final int NLM_F_APPEND = 0x800;
    public static final int NLM_F_DUMP = 0x300;
    /** On an NLMSG_ERROR: the echoed request was cut to its header. */
    public static final int NLM_F_CAPPED = 0x100;
    /** On an NLMSG_ERROR: extended-ack attributes follow. */
    public static final int NLM_F_ACK_TLVS = 0x200;
    public static final int NLMSGERR_ATTR_MSG = 1;

    // linux/netfilter/nfnetlink.h
    public static final int NFNL_SUBSYS_NFTABLES = 10;
    public static final int NFNL_MSG_BATCH_BEGIN = 0x10;
    public static final int NFNL_MSG_BATCH_END = 0x11;

    // linux/netfilter/nf_tables.h: message types within the nftables subsystem
    public static final int NFT_MSG_NEWTABLE = 0;
    public static final int NFT_MSG_GETTABLE = 1;
    public static final int NFT_MSG_DELTABLE = 2;
    public static final int NFT_MSG_NEWCHAIN = 3;
    public static final int NFT_MSG_GETCHAIN = 4;
    public static final int NFT_MSG_DELCHAIN = 5;
    public static final int NFT_MSG_NEWRULE = 6;
    public static final int NFT_MSG_GETRULE = 7;
    public static final int NFT_MSG_DELRULE = 8;

    // linux/netfilter.h
    public static final int NFPROTO_INET = 1;
    public static final int NFPROTO_IPV4 = 2;
    public static final int NFPROTO_IPV6 = 10;
    public static final int NF_INET_PRE_ROUTING = 0;

    // nf_tables expressions
    public static final int NFT_REG_1 = 1;
    public static final int NFT_REG_2 = 2;
    public static final int NFT_CMP_EQ = 0;
    public static final int NFT_META_IIFNAME = 6;
    public static final int NFT_META_NFPROTO = 15;
    public static final int NFT_META_L4PROTO = 16;
    public static final int NFT_PAYLOAD_NETWORK_HEADER = 1;
    public static final int NFT_PAYLOAD_TRANSPORT_HEADER = 2;
    public static final int NFT_NAT_DNAT = 1;
    public static final int NF_NAT_RANGE_MAP_IPS = 0x1;
    public static final int NF_NAT_RANGE_PROTO_SPECIFIED = 0x2;
    public static final int IPPROTO_TCP = 6;
    public static final int IFNAMSIZ = 16;
    public static final int NFT_REJECT_TCP_RST = 1;
    /** Verdict code of a jump to another chain. */
    public static final int NFT_JUMP = -3;
    /** NF_IP_PRI_NAT_DST: where iptables puts its nat PREROUTING chain. */
    public static final int NF_IP_PRI_NAT_DST = -100;

    private NetlinkConstants() {
    }

    /** The full nlmsg_type of an nf_tables message. */
    public static int nftType(int msg) {
        return (NFNL_SUBSYS_NFTABLES << 8) | msg;
    }

    public static String familyName(int family) {
        return switch (family) {
            case NFPROTO_INET -> "inet";
            case NFPROTO_IPV4 -> "ip";
            case NFPROTO_IPV6 -> "ip6";
            default -> "family " + family;
        };
    }
}
