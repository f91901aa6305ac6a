package io.iamlet.control.aws;

import io.iamlet.control.testing.FakeImds;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class NodeMetadataTest {
    @Test
    void discoversBaseArnRoleAndRegionWithAnImdsV2Session() throws Exception {
        try (FakeImds imds = FakeImds.start("444455556666", "node-role")) {
            NodeMetadata metadata = new NodeMetadata(imds.url(), Duration.ofSeconds(2));
            assertEquals("arn:aws:iam::444455556666:role/", metadata.discoverBaseArn().text());
            assertEquals("node-role", metadata.discoverNodeRole());
            assertEquals("eu-west-1", metadata.region());
            assertEquals(metadata.token(), metadata.token(), "one session is reused");
        }
    }

    @Test
    void anUnreachableMetadataServiceIsNamed() {
        NodeMetadata metadata = new NodeMetadata(URI.create("http://127.0.0.1:9"), Duration.ofMillis(500));
        IOException e = assertThrows(IOException.class, metadata::discoverBaseArn);
        assertNotNull(e);
    }

    @Test
    void stsRegionIsGlobalUnlessRegionalIsAsked() {
        assertEquals(Region.AWS_GLOBAL, StsRegion.choose(false, Optional.of("eu-west-1"), Map.of(), () -> "x"));
        assertEquals(Region.of("eu-west-2"), StsRegion.choose(true, Optional.of("eu-west-2"), Map.of("AWS_REGION", "us-east-2"), () -> "x"));
        assertEquals(Region.of("us-east-2"), StsRegion.choose(true, Optional.empty(), Map.of("AWS_REGION", "us-east-2"), () -> "x"));
        assertEquals(Region.of("ap-south-1"), StsRegion.choose(true, Optional.empty(), Map.of(), () -> "ap-south-1"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> StsRegion.choose(true, Optional.empty(), Map.of(), () -> {
                    throw new IOException("no metadata");
                }));
        assertTrue(e.getMessage().contains("set --region or AWS_REGION"), e.getMessage());
    }
}
