package io.iamlet.agent;

import io.iamlet.agent.http.ContainerCredentialsEndpoint;
import io.iamlet.agent.http.ImdsV2;
import io.iamlet.agent.http.conn.ServerLimits;
import io.iamlet.agent.log.LogFormat;
import io.iamlet.control.KubeClients;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.settings.SettingNames;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.Redirects;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * Everything `iamlet run` was told, checked, in the groups the agent uses them in. Built by the run command from
 * kube2iam-compatible flags.
 *
 * @param names how the libraries' messages name a setting: as the flag that gave it
 */
public record AgentConfig(Node node, Rules rules, Pods pods, Credentials credentials, Serving serving, SettingNames names) {

    /** The node the agent serves: its name (the pods of that node) and address (for /healthz and the redirect). */
    public record Node(String name, String hostIp) {
    }

    /**
     * The redirect of the pods' metadata traffic.
     *
     * @param spec      the rules to install, or empty without --iptables
     * @param backend   how the redirect is written
     * @param cgroup    with ebpf: the cgroup v2 directory the pods run under
     * @param bpfPinDir where the eBPF backend pins its link (also cleared by the other backends)
     * @param onExit    what happens to the rules when the agent stops
     */
    public record Rules(Optional<RedirectSpec> spec, Backend backend, boolean adoptKube2iamRules, OnExit onExit, Optional<Path> cgroup,
                        Path bpfPinDir) {
        /** The redirect layer, set up for these rules. */
        public Redirects redirects(String version) {
            return new Redirects(version, adoptKube2iamRules, bpfPinDir, cgroup);
        }
    }

    /** The Kubernetes API and the pod index kept from it. */
    public record Pods(KubeClients.ApiSettings api, Duration resync, Duration lookupBudget, boolean resolveDuplicates, int apiReadsPerSecond,
                       Duration syncTimeout) {
    }

    /** Which role a pod gets, and how its credentials are had from STS. */
    public record Credentials(RoleSettings roles, boolean autoDiscoverBaseArn, boolean autoDiscoverDefaultRole, Optional<URI> stsEndpoint,
                              boolean regionalSts, Optional<String> region, Duration sessionDuration, Duration errorTtl) {
    }

    /**
     * What the server answers, and where.
     *
     * @param containerCredentials the container-credentials endpoint's path, token audiences and TokenReview use
     * @param limits               idle timeout, connection cap and request sizes of the app and management ports
     */
    public record Serving(int appPort, int metricsPort, URI metadata, Set<String> allowedMetadataPaths, ImdsV2 imdsV2,
                          ContainerCredentialsEndpoint containerCredentials, ServerLimits limits, LogFormat logFormat,
                          boolean debug) {
        public Serving {
            allowedMetadataPaths = Set.copyOf(allowedMetadataPaths);
        }
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
