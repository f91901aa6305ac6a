package io.iamlet.e2e.sandbox;

import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;

import java.net.URI;

/**
 * What a Java workload in a pod does: the SDK v2 default credential chain (which, with nothing in the
 * environment, asks IMDS with IMDSv2 first), then one STS call. Run by {@link PodClients#javaSdk}.
 */
public final class SdkClient {
    private SdkClient() {
    }

    public static void main(String[] args) {
        try (DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build();
             StsClient sts = StsClient.builder().region(Region.EU_WEST_1).endpointOverride(URI.create(args[0]))
                     .credentialsProvider(chain).build()) {
            AwsCredentials credentials = chain.resolveCredentials();
            System.out.println("AccessKeyId=" + credentials.accessKeyId());
            System.out.println("Provider=" + credentials.providerName().orElse("unknown"));
            System.out.println("Arn=" + sts.getCallerIdentity().arn());
        }
    }
}
