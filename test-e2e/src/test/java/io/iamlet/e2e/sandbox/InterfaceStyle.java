package io.iamlet.e2e.sandbox;

/**
 * How a CNI connects a pod to its node, and so which interface the pod's traffic arrives on: the
 * pattern the agent's --host-interface must name.
 */
public enum InterfaceStyle {
    /** Calico: a cali+ veth per pod, a /32 pod address, the gateway 169.254.1.1 answered by proxy ARP. */
    CALI("cali+", "Calico"),
    /** AWS VPC CNI: an eni+ veth per pod, a /32 pod address, a static neighbour entry for 169.254.1.1. */
    ENI("eni+", "AWS VPC CNI"),
    /** Docker's bridge: pods' veths enslaved to docker0, which holds the gateway address. */
    DOCKER0("docker0", "docker0 bridge");

    private final String hostInterface;
    private final String cni;

    InterfaceStyle(String hostInterface, String cni) {
        this.hostInterface = hostInterface;
        this.cni = cni;
    }

    /** The --host-interface value that covers pods of this style. */
    public String hostInterface() {
        return hostInterface;
    }

    public String cni() {
        return cni;
    }
}
