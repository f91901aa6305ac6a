# The sandbox's fake IMDS and fake STS as an image, for test-e2e/kind/run.sh. Build from the repository
# root after `mvn install -DskipTests` and run.sh's copy of the test classpath into test-e2e/target/kind-lib.
FROM eclipse-temurin:25-jre-noble
RUN apt-get update && apt-get install -y --no-install-recommends iproute2 && rm -rf /var/lib/apt/lists/*
COPY test-e2e/target/test-classes/ /opt/fakes/classes/
COPY test-e2e/target/kind-lib/ /opt/fakes/lib/
ENTRYPOINT ["java", "-cp", "/opt/fakes/classes:/opt/fakes/lib/*", "io.iamlet.e2e.sandbox.FakeServers"]
