package io.iamlet.control.policy;

import java.util.Optional;

/**
 * EKS Pod Identity's session tags (--session-tags, --cluster-name, --cluster-arn). Off by default: a cluster
 * moved from kube2iam has trust policies without sts:TagSession, and with tags on STS would refuse every role.
 *
 * @param clusterName the eks-cluster-name tag, sent only when given
 * @param clusterArn  the eks-cluster-arn tag, sent only when given
 */
public record SessionTagSettings(boolean enabled, Optional<String> clusterName, Optional<String> clusterArn) {
    public SessionTagSettings {
        clusterName.map(SessionTag::valueProblem).ifPresent(p -> {
            throw new IllegalArgumentException("the cluster name " + p);
        });
        clusterArn.map(SessionTag::valueProblem).ifPresent(p -> {
            throw new IllegalArgumentException("the cluster ARN " + p);
        });
        if (clusterArn.isPresent() && !clusterArn.get().startsWith("arn:")) {
            throw new IllegalArgumentException("the cluster ARN must look like arn:aws:eks:REGION:ACCOUNT:cluster/NAME, not '"
                    + clusterArn.get() + "'");
        }
    }

    public static SessionTagSettings off() {
        return new SessionTagSettings(false, Optional.empty(), Optional.empty());
    }
}
