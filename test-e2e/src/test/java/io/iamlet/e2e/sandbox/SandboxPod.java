package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Netns;

/**
 * A pod's network: its own namespace, its address, and the node-side interface its traffic arrives on.
 * The Pod object in the API is separate ({@link Sandbox#createPodObject}), so tests can race the two.
 */
public record SandboxPod(Netns ns, InterfaceStyle style, String ip, String nodeInterface) {
    @Override
    public String toString() {
        return ip + " via " + nodeInterface + " (" + style.cni() + ")";
    }
}
