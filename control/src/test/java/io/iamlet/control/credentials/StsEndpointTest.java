package io.iamlet.control.credentials;

import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.testing.FakeSts;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Without --sts-endpoint the SDK resolves the endpoint itself, which is what makes AWS_ENDPOINT_URL_STS work;
 * its system-property twin aws.endpointUrlSts stands in for the variable here (a JVM cannot set its own env).
 */
class StsEndpointTest {
    @Test
    void theSdksOwnEndpointSettingIsHonouredWhenNoFlagIsGiven() throws Exception {
        try (FakeSts sts = FakeSts.start()) {
            System.setProperty("aws.endpointUrlSts", sts.endpoint().toString());
            try (StsCredentialSource source = new StsCredentialSource(new StsCredentialSource.Settings(Optional.empty(),
                    Region.AWS_GLOBAL, Duration.ofHours(1), Duration.ofSeconds(5),
                    StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIANODE0000000000", "s"))), Clock.systemUTC())) {
                Credentials c = source.assume(new CredentialKey(RoleArn.parse("arn:aws:iam::111122223333:role/r").orElseThrow(),
                        "s", Optional.empty()));
                assertTrue(c.accessKeyId().startsWith("ASIAFAKE"));
                assertEquals(1, sts.assumeRoleCalls());
            } finally {
                System.clearProperty("aws.endpointUrlSts");
            }
        }
    }

    @Test
    void sessionDurationOutsideStsLimitsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new StsCredentialSource.Settings(
                Optional.empty(), Region.AWS_GLOBAL, Duration.ofMinutes(5), Duration.ofSeconds(5), null));
        assertTrue(e.getMessage().contains("sessions must last 15m to 12h (STS's limits), not 5m"), e.getMessage());
        assertEquals(Duration.ofHours(12), StsCredentialSource.checkSessionDuration(Duration.ofHours(12)), "the bound itself is allowed");
        assertThrows(IllegalArgumentException.class, () -> StsCredentialSource.checkSessionDuration(Duration.ofHours(12).plusSeconds(1)));
    }
}
