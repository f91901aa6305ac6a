package io.iamlet.agent;

import io.iamlet.agent.server.MetadataRoutes;
import io.iamlet.agent.server.RequestLog;
import io.iamlet.agent.server.ServerLimits;
import io.iamlet.control.KubeClients;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.netlink.redirect.RedirectSpec;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * Everything `iamlet run` was told, checked. Built by the run command from kube2iam-compatible flags.
 *
 * @param redirect     the rules to install, or empty without --iptables
 * @param backend      nftables, iptables or ebpf
 * @param cgroup       with ebpf: the cgroup v2 directory the pods run under
 * @param bpfPinDir    where the eBPF backend pins its link (also cleared by the other backends)
 * @param onExit       what happens to the rules when the agent stops
 * @param serverLimits idle timeout, connection cap and request sizes of the app and management ports
 */
public record AgentConfig(String nodeName, String hostIp, int appPort, int metricsPort, Optional<RedirectSpec> redirect,
                          String backend, boolean adoptKube2iamRules, OnExit onExit, KubeClients.ApiSettings api,
                          RoleSettings roles, boolean autoDiscoverBaseArn, boolean autoDiscoverDefaultRole,
                          URI metadata, Set<String> allowedMetadataPaths, MetadataRoutes.ImdsV2 imdsV2,
                          Optional<URI> stsEndpoint, boolean regionalSts, Optional<String> region, Duration sessionDuration,
                          Duration errorTtl, Duration resync, Duration lookupBudget, boolean resolveDuplicates,
                          RequestLog.Format logFormat, boolean debug, Duration syncTimeout,
                          Optional<Path> cgroup, Path bpfPinDir, ServerLimits serverLimits) {

    /** What to do with the rules on SIGTERM/SIGINT. */
    public enum OnExit {
        /** Delete them: pods reach the node's metadata service directly again (uninstalling). */
        REMOVE,
        /** Swap them for a TCP reset: pods reach nothing until the next agent installs the redirect (updating). */
        BLOCK,
        /** REMOVE when the agent's own DaemonSet is gone or being deleted, else BLOCK. */
        AUTO
    }
}
