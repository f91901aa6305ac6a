package io.iamlet.control.policy;

import io.iamlet.control.pods.PodInfo;

import java.util.ArrayList;
import java.util.List;

/**
 * The session tags EKS Pod Identity puts on every AssumeRole for a pod, with the same keys, so IAM policies
 * written for one work for the other (EKS User Guide, "List of session tags added by EKS Pod Identity",
 * docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html). All of them are transitive, as EKS makes them.
 */
public final class SessionTags {
    public static final String CLUSTER_ARN = "eks-cluster-arn";
    public static final String CLUSTER_NAME = "eks-cluster-name";
    public static final String NAMESPACE = "kubernetes-namespace";
    public static final String SERVICE_ACCOUNT = "kubernetes-service-account";
    public static final String POD_NAME = "kubernetes-pod-name";
    public static final String POD_UID = "kubernetes-pod-uid";
    /** STS takes at most 50 session tags (STS API reference, AssumeRole, Tags). We send at most six. */
    public static final int MAX_TAGS = 50;

    private SessionTags() {
    }

    /** The pod's tags, in EKS's order; the cluster's only when the flags name it. */
    public static List<SessionTag> forPod(SessionTagSettings settings, PodInfo pod) {
        List<SessionTag> tags = new ArrayList<>(6);
        settings.clusterArn().ifPresent(arn -> tags.add(new SessionTag(CLUSTER_ARN, arn)));
        settings.clusterName().ifPresent(name -> tags.add(new SessionTag(CLUSTER_NAME, name)));
        tags.add(new SessionTag(NAMESPACE, pod.namespace()));
        tags.add(new SessionTag(SERVICE_ACCOUNT, pod.serviceAccount()));
        tags.add(new SessionTag(POD_NAME, pod.name()));
        tags.add(new SessionTag(POD_UID, pod.uid() == null ? "" : pod.uid()));
        return List.copyOf(tags);
    }
}
