// What a Go workload in a pod does with the AWS SDK for Go v1: a session and its default credential chain
// (environment, shared files, then the container endpoint or EC2 role credentials from IMDS with IMDSv2 tokens), then
// one STS call. Usage: sdk-v1 STS_ENDPOINT. Built by the sandbox tests (GoClients.java) from Debian's SDK sources.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/sts"
)

func main() {
	sess, err := session.NewSession(&aws.Config{Region: aws.String("eu-west-1")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed: session:", err)
		os.Exit(1)
	}
	creds, err := sess.Config.Credentials.Get()
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed: credentials:", err)
		os.Exit(1)
	}
	fmt.Println("AccessKeyId=" + creds.AccessKeyID)
	fmt.Println("Source=" + creds.ProviderName)
	out, err := sts.New(sess, &aws.Config{Endpoint: aws.String(os.Args[1])}).GetCallerIdentity(&sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed: sts:", err)
		os.Exit(1)
	}
	fmt.Println("Arn=" + aws.StringValue(out.Arn))
}
