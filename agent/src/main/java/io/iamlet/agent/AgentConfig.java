package io.iamlet.agent;

import io.iamlet.agent.http.ContainerCredentialsRoute;
import io.iamlet.agent.http.MetadataRoutes;
import io.iamlet.agent.log.RequestLog;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.control.KubeClients;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.Redirects;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * Everything `iamlet run` was told, checked. Built by the run command from kube2iam-compatible flags.
 *
 * @param redirect     the rules to install, or empty without --iptables
 * @param backend      how the redirect is written
 * @param cgroup       with ebpf: the cgroup v2 directory the pods run under
 * @param bpfPinDir    where the eBPF backend pins its link (also cleared by the other backends)
 * @param onExit       what happens to the rules when the agent stops
 * @param containerCredentials the container-credentials endpoint's path, token audiences and TokenReview use
 * @param serverLimits idle timeout, connection cap and request sizes of the app and management ports
 */
public record AgentConfig(String nodeName, String hostIp, int appPort, int metricsPort, Optional<RedirectSpec> redirect,
                          Backend backend, boolean adoptKube2iamRules, OnExit onExit, KubeClients.ApiSettings api,
                          RoleSettings roles, boolean autoDiscoverBaseArn, boolean autoDiscoverDefaultRole,
                          URI metadata, Set<String> allowedMetadataPaths, MetadataRoutes.ImdsV2 imdsV2,
                          Optional<URI> stsEndpoint, boolean regionalSts, Optional<String> region, Duration sessionDuration,
                          Duration errorTtl, Duration resync, Duration lookupBudget, boolean resolveDuplicates,
                          int apiReadsPerSecond,
                          RequestLog.Format logFormat, boolean debug, Duration syncTimeout,
                          Optional<Path> cgroup, Path bpfPinDir,
                          ContainerCredentialsRoute.Settings containerCredentials, ServerLimits serverLimits) {

    /** The redirect layer, set up for this configuration. */
    public Redirects redirects(String version) {
        return new Redirects(version, adoptKube2iamRules, bpfPinDir, cgroup);
    }

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
