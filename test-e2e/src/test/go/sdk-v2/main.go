// What a Go workload in a pod does with the AWS SDK for Go v2: the default configuration and its credential
// chain (environment, shared files, then the container endpoint or IMDS with IMDSv2 tokens), then one STS call with
// what it found. Usage: sdk-v2 STS_ENDPOINT. Built by the sandbox tests (GoClients.java) from Debian's SDK sources.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed: config:", err)
		os.Exit(1)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed: credentials:", err)
		os.Exit(1)
	}
	fmt.Println("AccessKeyId=" + creds.AccessKeyID)
	fmt.Println("Source=" + creds.Source)
	client := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.EndpointResolver = sts.EndpointResolverFromURL(os.Args[1])
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed: sts:", err)
		os.Exit(1)
	}
	fmt.Println("Arn=" + aws.ToString(out.Arn))
}
