#!/bin/sh
# Copy what the CloudFormation stack created into the Kubernetes overlay:
#
#   deploy/stack-outputs.sh ENVIRONMENT IMAGE_TAG [STACK_NAME]
#
# writes k8s/overlays/ENVIRONMENT/app.env (settings the pods read) and
# cluster.env (image, IAM role, certificate, security group, VPC range, used by
# k8s/components/aws) from the outputs of the root stack (default
# onsale-ENVIRONMENT, cloudformation/root.yaml). Needs the AWS CLI, signed in.
set -eu

if [ "$#" -lt 2 ]; then
    echo "usage: $0 ENVIRONMENT IMAGE_TAG [STACK_NAME]" >&2
    exit 2
fi
environment="$1"
image_tag="$2"
stack="${3:-onsale-$environment}"
overlay="$(cd "$(dirname "$0")/.." && pwd)/k8s/overlays/$environment"
[ -d "$overlay" ] || { echo "no overlay at $overlay" >&2; exit 2; }

outputs="$(aws cloudformation describe-stacks --stack-name "$stack" \
    --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text)"

output() {
    value="$(printf '%s\n' "$outputs" | awk -F '\t' -v key="$1" '$1 == key { print $2 }')"
    if [ -z "$value" ]; then
        echo "stack $stack has no output $1 (is it deployed and complete?)" >&2
        exit 1
    fi
    printf '%s' "$value"
}

# One output per assignment: a failed lookup then stops the script (set -e)
# before either file is touched.
host="$(output PublicHostName)"
database_host="$(output DatabaseHost)"
app_redis_host="$(output AppRedisHost)"
broker_redis_host="$(output BrokerRedisHost)"
bucket="$(output AssetsBucketName)"
image_repository="$(output ImageRepositoryUri)"
app_role="$(output AppRoleArn)"
certificate="$(output OriginCertificateArn)"
alb_security_group="$(output AlbSecurityGroupId)"
vpc_cidr="$(output VpcCidr)"
public_url="$(output PublicUrl)"
header="# Written by deploy/stack-outputs.sh $environment from stack $stack; do not edit."

cat > "$overlay/app.env" <<ENV
$header
ONSALE_PUBLIC_HOSTS=$host
ONSALE_PUBLIC_URL=$public_url
DJANGO_CSRF_TRUSTED_ORIGINS=https://$host
DB_HOST=$database_host
REDIS_HOST=$app_redis_host
BROKER_REDIS_HOST=$broker_redis_host
AWS_STORAGE_BUCKET_NAME=$bucket
AWS_S3_CUSTOM_DOMAIN=$host
ONSALE_RELEASE=$image_tag
ENV
cat > "$overlay/cluster.env" <<ENV
$header
IMAGE=$image_repository:$image_tag
APP_ROLE_ARN=$app_role
CERTIFICATE_ARN=$certificate
ALB_SECURITY_GROUP=$alb_security_group
VPC_CIDR=$vpc_cidr
ENV
echo "wrote $overlay/app.env and $overlay/cluster.env" >&2
