"""cloudformation/: cfn-lint passes on every template, the nested stacks are
wired to each other correctly, and the properties the platform depends on
(durable MySQL, Redis cluster mode with TLS/AUTH, the CDN cache rules, the
WAF rate rule) are what the templates say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from tests.deploy.conftest import REPO, run, tool

TEMPLATES = sorted((REPO / "cloudformation").glob("*.yaml"))


def load(name: str) -> dict[str, Any]:
    return cfn_yaml.load(str(REPO / "cloudformation" / name))


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource.get("Properties", {})
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def test_every_template_passes_cfn_lint():
    assert [path.name for path in TEMPLATES] == [
        "cdn.yaml",
        "data.yaml",
        "eks.yaml",
        "network.yaml",
        "root.yaml",
        "secrets.yaml",
        "waf.yaml",
    ]
    # Errors and warnings both fail; the one ignored warning is justified in
    # root.yaml's Metadata.
    result = run([tool("cfn-lint"), *map(str, TEMPLATES)])
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_cfn_lint_catches_a_broken_template(tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n"
        "  Bucket:\n"
        "    Type: AWS::S3::Bucket\n"
        "    Properties:\n"
        "      BucketNmae: misspelt\n"
    )
    result = run([tool("cfn-lint"), str(broken)])
    assert result.returncode == 2
    assert "BucketNmae" in result.stdout


def test_nested_stacks_are_wired_to_real_parameters_and_outputs():
    root = load("root.yaml")
    stacks = resources(root, "AWS::CloudFormation::Stack")
    children = {
        name: load(properties["TemplateURL"]) for name, properties in stacks.items()
    }
    for name, properties in stacks.items():
        child = children[name]
        passed = set(properties.get("Parameters", {}))
        declared = set(child.get("Parameters", {}))
        assert passed <= declared, f"{name}: unknown parameters {passed - declared}"
        required = {
            key
            for key, spec in child.get("Parameters", {}).items()
            if "Default" not in spec
        }
        assert required <= passed, f"{name}: missing parameters {required - passed}"

    def outputs_used(node: Any) -> list[tuple[str, str]]:
        if isinstance(node, dict):
            if "Fn::GetAtt" in node:
                stack, attribute = node["Fn::GetAtt"]
                if stack in stacks:
                    assert attribute.startswith("Outputs."), attribute
                    return [(stack, attribute.removeprefix("Outputs."))]
            return [used for value in node.values() for used in outputs_used(value)]
        if isinstance(node, list):
            return [used for value in node for used in outputs_used(value)]
        return []

    used = outputs_used(root["Resources"]) + outputs_used(root["Outputs"])
    assert len(used) > 20
    for stack, output in used:
        assert output in children[stack]["Outputs"], f"{stack} has no output {output}"


def test_network_spans_three_zones_with_public_and_private_subnets():
    network = load("network.yaml")
    subnets = resources(network, "AWS::EC2::Subnet")
    zones = sorted(
        (name.rstrip("123"), props["AvailabilityZone"]["Fn::Select"][0])
        for name, props in subnets.items()
    )
    assert zones == [
        ("PrivateSubnet", 0),
        ("PrivateSubnet", 1),
        ("PrivateSubnet", 2),
        ("PublicSubnet", 0),
        ("PublicSubnet", 1),
        ("PublicSubnet", 2),
    ]
    assert len(resources(network, "AWS::EC2::NatGateway")) == 3


def test_mysql_is_durable_encrypted_and_read_committed():
    data = load("data.yaml")
    (database,) = resources(data, "AWS::RDS::DBInstance").values()
    assert database["MultiAZ"] is True
    assert database["StorageEncrypted"] is True
    assert database["BackupRetentionPeriod"] >= 7
    assert database["DeletionProtection"] is True
    assert "resolve:secretsmanager" in database["MasterUserPassword"]["Fn::Sub"]
    (parameters,) = resources(data, "AWS::RDS::DBParameterGroup").values()
    assert parameters["Parameters"]["transaction_isolation"] == "READ-COMMITTED"
    assert parameters["Parameters"]["innodb_flush_log_at_trx_commit"] == "1"
    assert parameters["Parameters"]["sync_binlog"] == "1"


def test_redis_groups_use_tls_auth_and_multi_az():
    data = load("data.yaml")
    groups = resources(data, "AWS::ElastiCache::ReplicationGroup")
    assert groups["StateRedis"]["ClusterMode"] == "enabled"
    for props in groups.values():
        assert props["TransitEncryptionEnabled"] is True
        assert props["AtRestEncryptionEnabled"] is True
        assert props["MultiAZEnabled"] is True
        assert props["AutomaticFailoverEnabled"] is True
        assert "resolve:secretsmanager" in props["AuthToken"]["Fn::Sub"]


def test_cdn_caches_static_long_status_one_second_and_api_never():
    cdn = load("cdn.yaml")
    (distribution,) = resources(cdn, "AWS::CloudFront::Distribution").values()
    config = distribution["DistributionConfig"]
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    caching_optimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    caching_disabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert behaviours["/static/*"]["CachePolicyId"] == caching_optimized
    assert behaviours["/static/*"]["TargetOriginId"] == "assets"
    assert behaviours["/api/*"]["CachePolicyId"] == caching_disabled
    assert config["DefaultCacheBehavior"]["CachePolicyId"] == caching_disabled
    status = behaviours["/api/v1/events/*/queue/status"]
    assert status["CachePolicyId"] == {"Ref": "StatusCachePolicy"}
    policy = cdn["Resources"]["StatusCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert (policy["MinTTL"], policy["DefaultTTL"], policy["MaxTTL"]) == (1, 1, 1)
    # CloudFront takes the first matching behaviour: the one-second rules
    # must come before /api/*.
    order = [b["PathPattern"] for b in config["CacheBehaviors"]]
    assert order.index("/api/v1/events/*/queue/status") < order.index("/api/*")
    assert config["WebACLId"] == {"Ref": "WebAclArn"}
    (s3_origin,) = [o for o in config["Origins"] if o["Id"] == "assets"]
    assert s3_origin["OriginAccessControlId"] == {
        "Fn::GetAtt": ["OriginAccessControl", "Id"]
    }


def test_waf_has_managed_rules_and_a_rate_rule_on_join():
    waf = load("waf.yaml")
    (acl,) = resources(waf, "AWS::WAFv2::WebACL").values()
    assert acl["Scope"] == "CLOUDFRONT"
    managed = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for rule in acl["Rules"]
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }
    assert {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    } <= managed
    (join,) = [rule for rule in acl["Rules"] if rule["Name"] == "join-rate-per-ip"]
    statements = join["Statement"]["RateBasedStatement"]["ScopeDownStatement"][
        "AndStatement"
    ]["Statements"]
    regex = statements[1]["RegexMatchStatement"]["RegexString"]
    assert re.search(regex, "/api/v1/events/42/queue")
    assert not re.search(regex, "/api/v1/events/42/queue/status")
    assert join["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429


def test_secrets_live_in_secrets_manager_not_in_parameters():
    for path in TEMPLATES:
        template = cfn_yaml.load(str(path))
        for name in template.get("Parameters", {}):
            assert not any(
                word in name.lower() for word in ("password", "secret", "token")
            ) or name.endswith("Arn"), f"{path.name}: parameter {name} looks secret"
    secrets = resources(load("secrets.yaml"), "AWS::SecretsManager::Secret")
    assert len(secrets) == 4
