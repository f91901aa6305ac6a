// The default Node.js credential chain (environment, then the container provider, then IMDS), as any
// workload gets it, then one STS call with what it found. Usage: node client.mjs STS_ENDPOINT
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";

const provider = fromNodeProviderChain();
try {
  const credentials = await provider();
  console.log("AccessKeyId=" + credentials.accessKeyId);
  console.log("AccountId=" + (credentials.accountId ?? ""));
  const sts = new STSClient({ region: "eu-west-1", endpoint: process.argv[2], credentials: provider });
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  console.log("Arn=" + identity.Arn);
} catch (e) {
  console.error("failed: " + (e.name ?? "") + ": " + e.message);
  process.exit(1);
}
