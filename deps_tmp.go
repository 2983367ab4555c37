package main
import (
 _ "github.com/aws/aws-sdk-go-v2/aws"
 _ "github.com/aws/aws-sdk-go-v2/config"
 _ "github.com/aws/aws-sdk-go-v2/service/ec2"
 _ "github.com/aws/aws-sdk-go-v2/service/ssm"
 _ "github.com/aws/aws-sdk-go-v2/service/route53"
 _ "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
 _ "github.com/aws/smithy-go"
 _ "github.com/expr-lang/expr"
 _ "go.yaml.in/yaml/v3"
 _ "github.com/rogpeppe/go-internal/testscript"
 _ "github.com/spf13/cobra"
)
func main(){}
