package io.iamlet.control.testing;

import io.iamlet.control.credentials.StsCredentialSource;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The world outside the node for one test, on loopback: the Kubernetes API (mock, CRUD), STS and the node's
 * IMDS (account 111122223333, node role "node-role"), stopped after the test whatever happens:
 * {@code @RegisterExtension final FakeAws aws = new FakeAws();}
 */
public final class FakeAws implements BeforeEachCallback, AfterEachCallback {
    public static final String ACCOUNT = "111122223333";
    public static final String BASE_ARN = "arn:aws:iam::" + ACCOUNT + ":role/";
    /** The agent's own access key, as the fake STS sees it in the SigV4 header. */
    public static final String AGENT_ACCESS_KEY = "AKIANODE0000000000";

    private MockApiServer api;
    private FakeSts sts;
    private FakeImds imds;
    private StsCredentialSource source;

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        api = MockApiServer.start();
        sts = FakeSts.start();
        imds = FakeImds.start(ACCOUNT, "node-role");
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (source != null) {
            source.close();
            source = null;
        }
        stopApi();
        imds.close();
        sts.close();
    }

    public MockApiServer api() {
        return api;
    }

    public FakeSts sts() {
        return sts;
    }

    public FakeImds imds() {
        return imds;
    }

    /** An API server that went away, for start-up failure tests. */
    public void stopApi() {
        if (api != null) {
            api.close();
            api = null;
        }
    }

    /** The real SDK StsClient pointed at the fake STS, signing with the agent's own (static) credentials. */
    public StsCredentialSource stsSource() {
        if (source == null) {
            source = new StsCredentialSource(new StsCredentialSource.Settings(Optional.of(sts.endpoint()), Region.US_EAST_1,
                    Duration.ofHours(1), Duration.ofSeconds(5),
                    StaticCredentialsProvider.create(AwsBasicCredentials.create(AGENT_ACCESS_KEY, "node-secret"))), Clock.systemUTC());
        }
        return source;
    }
}
