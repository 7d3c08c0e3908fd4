"""Conformance: the official Azure SDK for Python (azure-mgmt-redis) against georep-server.

Run by tests/api/sdk.rs with the server's HTTPS URL, two compatible caches
and the server's azure-env.sh (IDENTITY_ENDPOINT, IDENTITY_HEADER,
REQUESTS_CA_BUNDLE) in the environment. The credential is the SDK's own
DefaultAzureCredential, which finds the managed identity; no policy is
replaced. Exits non-zero on the first failure.
"""

import ipaddress
import os
import sys

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import DefaultAzureCredential
from azure.mgmt.redis import RedisManagementClient
from azure.mgmt.redis.models import RedisLinkedServerCreateParameters, RedisUpdateParameters

BASE_URL = os.environ["GEOREP_URL"]
SUBSCRIPTION = os.environ["GEOREP_SUBSCRIPTION"]
GROUP = os.environ["GEOREP_RESOURCE_GROUP"]
PRIMARY = os.environ["GEOREP_PRIMARY"]
SECONDARY = os.environ["GEOREP_SECONDARY"]
INCOMPATIBLE = os.environ["GEOREP_INCOMPATIBLE"]


def check(condition, what):
    if not condition:
        print(f"FAIL {what}", flush=True)
        sys.exit(1)
    print(f"ok   {what}", flush=True)


def cache_id(name):
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Cache/Redis/{name}"


def main():
    check(BASE_URL.startswith("https://"), f"the SDK talks to the server over HTTPS: {BASE_URL}")
    client = RedisManagementClient(
        DefaultAzureCredential(),
        SUBSCRIPTION,
        base_url=BASE_URL,
    )

    names = sorted(c.name for c in client.redis.list_by_subscription())
    check(PRIMARY in names and SECONDARY in names, f"list_by_subscription lists the caches: {names}")
    in_group = [c.name for c in client.redis.list_by_resource_group(GROUP)]
    check(PRIMARY in in_group, "list_by_resource_group lists the caches")

    cache = client.redis.get(GROUP, PRIMARY)
    check(cache.provisioning_state == "Succeeded", f"get: {cache.name} is {cache.provisioning_state}")
    check(ipaddress.ip_address(cache.host_name).is_loopback and cache.port == 6379,
          f"get: {cache.host_name}:{cache.port} is a loopback address on 6379")
    other = client.redis.get(GROUP, SECONDARY)
    check(other.host_name != cache.host_name, f"each cache has its own address: {other.host_name}")
    check(len(cache.instances) == 2, "get: the primary and its replica are listed as instances")

    keys = client.redis.list_keys(GROUP, PRIMARY)
    check(bool(keys.primary_key) and bool(keys.secondary_key) and keys.primary_key != keys.secondary_key,
          "list_keys returns two keys")

    # Redis_Update is long-running (202, the cache Updating): begin_update
    # polls its status and ends with the cache as a GET reads it.
    poller = client.redis.begin_update(GROUP, PRIMARY, RedisUpdateParameters(tags={"sdk": "begin_update"}))
    updated = poller.result()
    check(updated.provisioning_state == "Succeeded" and updated.tags.get("sdk") == "begin_update",
          f"begin_update polls to the updated cache: {updated.provisioning_state} {updated.tags}")

    params = RedisLinkedServerCreateParameters(
        linked_redis_cache_id=cache_id(SECONDARY),
        linked_redis_cache_location="northeurope",
        server_role="Secondary",
    )
    poller = client.linked_server.begin_create(GROUP, PRIMARY, SECONDARY, params)
    link = poller.result()
    check(link.provisioning_state == "Succeeded", f"begin_create polls to {link.provisioning_state}")
    check(link.name == SECONDARY and link.server_role == "Secondary", "begin_create returns the link")
    check(bool(link.geo_replicated_primary_host_name) and bool(link.primary_host_name),
          "the link has geoReplicatedPrimaryHostName and primaryHostName")

    got = client.linked_server.get(GROUP, PRIMARY, SECONDARY)
    check(got.linked_redis_cache_id.lower() == cache_id(SECONDARY).lower(), "get returns the link")
    from_secondary = client.linked_server.get(GROUP, SECONDARY, PRIMARY)
    check(from_secondary.server_role == "Primary", "the secondary sees the primary")
    listed = list(client.linked_server.list(GROUP, PRIMARY))
    check(len(listed) == 1 and listed[0].name == SECONDARY, "list returns the link")
    check(len(client.redis.get(GROUP, SECONDARY).linked_servers) == 1, "the cache lists its linked server")

    try:
        client.redis.begin_delete(GROUP, SECONDARY).result()
        check(False, "deleting a linked cache is refused")
    except HttpResponseError as error:
        check(error.status_code == 409 and error.error.code == "LinkedCacheCannotBeDeleted",
              f"deleting a linked cache is refused: {error.error.code}")

    client.linked_server.begin_delete(GROUP, PRIMARY, SECONDARY).result()
    check(list(client.linked_server.list(GROUP, PRIMARY)) == [], "begin_delete unlinks")
    try:
        client.linked_server.get(GROUP, PRIMARY, SECONDARY)
        check(False, "the link is gone")
    except ResourceNotFoundError:
        check(True, "the link is gone")

    try:
        client.linked_server.begin_create(GROUP, PRIMARY, INCOMPATIBLE, RedisLinkedServerCreateParameters(
            linked_redis_cache_id=cache_id(INCOMPATIBLE),
            linked_redis_cache_location="eastus",
            server_role="Secondary",
        )).result()
        check(False, "an incompatible pair is refused")
    except HttpResponseError as error:
        codes = [d.code for d in error.error.details]
        check(error.status_code == 400 and "NotPremium" in codes, f"an incompatible pair is refused: {codes}")

    print("SDK conformance: all checks passed", flush=True)


if __name__ == "__main__":
    main()
