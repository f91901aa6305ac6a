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

/** Issue #12 finding 6: an STS call that times out is a 504 (docs/control.md), not a 503 "unreachable". */
class StsTimeoutTest {
    @Test
    void aTimedOutAssumeRoleIs504() throws Exception {
        try (FakeSts sts = FakeSts.start();
             StsCredentialSource source = new StsCredentialSource(new StsCredentialSource.Settings(Optional.of(sts.endpoint()),
                     Region.US_EAST_1, Duration.ofHours(1), Duration.ofSeconds(1),
                     StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIANODE0000000000", "s"))), Clock.systemUTC())) {
            sts.closeGate();
            try {
                CredentialException e = assertThrows(CredentialException.class, () -> source.assume(new CredentialKey(
                        RoleArn.parse("arn:aws:iam::111122223333:role/r").orElseThrow(), "s", Optional.empty())));
                assertEquals(504, e.httpStatus(), e.getMessage());
                assertTrue(e.getMessage().contains("did not answer"), e.getMessage());
            } finally {
                sts.open();
            }
        }
    }
}
