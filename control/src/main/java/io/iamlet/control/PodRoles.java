package io.iamlet.control;

import io.iamlet.control.credentials.CredentialKey;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.policy.RoleDecision;
import io.iamlet.control.policy.RolePolicy;

/**
 * The role policy applied to the pods of the index: what the broker asks for one pod, and what the credential
 * cache asks of all of them (whether a live pod still has a key). Built before both, so neither has to be
 * built first.
 */
public record PodRoles(PodIndex index, RolePolicy policy) {
    /**
     * The namespace annotation by which an operator lets the namespace's hostNetwork pods that name no role keep
     * the node's own credentials (eBPF backend, which otherwise gives them the default role or a refusal): the
     * one way a pod reaches the node's role through the agent, and only where someone who may annotate the
     * namespace said {@code "true"}.
     */
    public static final String HOST_NETWORK_NODE_CREDENTIALS = "iamlet.io/host-network-node-credentials";

    /** The policy's verdict on {@code pod}, with its namespace's restrictions as the index knows them. */
    public RoleDecision decide(PodInfo pod) {
        return policy.decide(pod, index.namespace(pod.namespace()));
    }

    /**
     * Whether {@code pod} keeps the node's own credentials: a hostNetwork pod without any role annotation, in a
     * namespace annotated {@value #HOST_NETWORK_NODE_CREDENTIALS}: "true" (as the index knows it now).
     */
    public boolean keepsNodeCredentials(PodInfo pod) {
        return pod.hostNetwork() && policy.settings().roleAnnotationKeys().stream().noneMatch(pod.annotations()::containsKey)
                && index.namespace(pod.namespace()).map(ns -> "true".equals(ns.annotations().get(HOST_NETWORK_NODE_CREDENTIALS)))
                .orElse(false);
    }

    /**
     * Whether a live pod still has the key: the cache keeps such keys fresh even when nobody asks, and drops the
     * others once idle.
     */
    public boolean wants(CredentialKey key) {
        return index.pods().stream()
                .filter(PodInfo::live)
                .map(this::decide)
                .anyMatch(d -> d instanceof RoleDecision.Allowed a && CredentialKey.of(a).equals(key));
    }
}
